/**
 * The real CIFAR-10 JPEGs for benchmarks, from ../shared/data/cifar10-jpg.tar.gz (our machines
 * and CI only; a user's machine has no ../shared): unpacked once into bench/.cache, plus subsets
 * of the first n images per class (hard links), and an upscaled 96x96 JPEG copy of a subset for
 * STL-sized benchmarks.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = fileURLToPath(new URL('../../', import.meta.url));
const archive = join(root, '..', 'shared', 'data', 'cifar10-jpg.tar.gz');
export const cacheDir = join(root, 'bench', '.cache');

/** The unpacked ImageFolder root holding train/ and test/. */
export function cifarJpegRoot(): string {
  const out = join(cacheDir, 'cifar10-jpg');
  if (existsSync(join(out, 'test'))) return out;
  if (!existsSync(archive)) {
    throw new Error(`${archive} is absent: the CIFAR-10 JPEG benchmarks need it (it exists on the project's machines and CI only)`);
  }
  const temp = `${out}.partial`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  execFileSync('tar', ['xzf', archive, '-C', temp]);
  renameSync(temp, out);
  return out;
}

/** A folder of the first `perClass` images of each class of a split (hard links, made once). */
export function cifarJpegSubset(split: 'train' | 'test', perClass: number): string {
  const source = join(cifarJpegRoot(), split);
  const out = join(cacheDir, `cifar10-${split}-${perClass}`);
  if (existsSync(out)) return out;
  const temp = `${out}.partial`;
  rmSync(temp, { recursive: true, force: true });
  for (const cls of readdirSync(source).sort()) {
    mkdirSync(join(temp, cls), { recursive: true });
    for (const f of readdirSync(join(source, cls)).sort().slice(0, perClass)) linkSync(join(source, cls, f), join(temp, cls, f));
  }
  renameSync(temp, out);
  return out;
}

/** The subset re-encoded as `side` x `side` JPEGs (bicubic upscaling, quality 90). */
export async function resizedJpegSubset(split: 'train' | 'test', perClass: number, side: number): Promise<string> {
  const source = cifarJpegSubset(split, perClass);
  const out = join(cacheDir, `cifar10-${split}-${perClass}-${side}px`);
  if (existsSync(out)) return out;
  const temp = `${out}.partial`;
  rmSync(temp, { recursive: true, force: true });
  for (const cls of readdirSync(source).sort()) {
    mkdirSync(join(temp, cls), { recursive: true });
    for (const f of readdirSync(join(source, cls))) {
      await sharp(join(source, cls, f)).resize(side, side, { kernel: 'cubic' }).jpeg({ quality: 90 }).toFile(join(temp, cls, f));
    }
  }
  renameSync(temp, out);
  return out;
}
