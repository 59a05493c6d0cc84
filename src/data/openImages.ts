/**
 * Opens a data set named on the command line or in a config as an {@link ImageArray}:
 * - a folder of images (labelled by sub-folder or unlabeled) or a CSV of `path,label`;
 * - `cifar10:<folder>[:train|test]`, `cifar100:<folder>[:train|test]` (binary batches);
 * - `stl10:<folder>[:train|test|unlabeled]` (stl10_binary);
 * - `fashion-mnist[:train|test]` (Debian's dataset-fashion-mnist, installed by the setup step) or
 *   `fashion-mnist:<folder>[:train|test]`, and `mnist:<folder>[:train|test]` (IDX files, plain or .gz).
 *
 * ```ts
 * const train = await openImages('cifar10:data/cifar-10-batches-bin:train');
 * const photos = await openImages('photos/', { size: 64, cache: 'runs/.cache' });
 * ```
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCifar10, readCifar100, readIdx, readStl10 } from './binaryFormats.js';
import type { ImageArray } from './imageArray.js';
import { ImageFolder, type LoadOptions } from './imageFolder.js';

export const FASHION_MNIST_DEBIAN = '/usr/share/datasets/fashion-mnist';

export interface OpenOptions extends LoadOptions {
  /** the split when the spec names none (default 'train') */
  split?: 'train' | 'test' | 'unlabeled';
}

function idxPair(folder: string, split: string, spec: string): [string, string] {
  const stem = split === 'test' ? 't10k' : 'train';
  for (const ext of ['.gz', '']) {
    const images = join(folder, `${stem}-images-idx3-ubyte${ext}`);
    if (existsSync(images)) return [images, join(folder, `${stem}-labels-idx1-ubyte${ext}`)];
  }
  throw new Error(`${spec}: no ${stem}-images-idx3-ubyte[.gz] in ${folder}`);
}

/** A data set from its spec string (see the module comment); folders are decoded with sharp. */
export async function openImages(spec: string, o: OpenOptions = {}): Promise<ImageArray> {
  const match = /^(cifar10|cifar100|stl10|fashion-mnist|mnist):(.*)$/.exec(spec) ?? (spec === 'fashion-mnist' ? [spec, spec, ''] : null);
  if (!match) {
    if (!existsSync(spec)) throw new Error(`${spec}: no such folder or file (expected a folder of images, a CSV of path,label, or cifar10:<dir>, cifar100:<dir>, stl10:<dir>, fashion-mnist, mnist:<dir>)`);
    const folder = spec.toLowerCase().endsWith('.csv') ? ImageFolder.fromCsv(spec) : ImageFolder.scan(spec);
    return folder.load(o);
  }
  const kind = match[1];
  const parts = match[2] === '' ? [] : match[2].split(':');
  const split = ['train', 'test', 'unlabeled'].includes(parts[parts.length - 1]) ? parts.pop()! : (o.split ?? 'train');
  const rest = parts.join(':');
  const folder = rest === '' && kind === 'fashion-mnist' ? FASHION_MNIST_DEBIAN : rest;
  if (!existsSync(folder)) {
    const hint = kind === 'fashion-mnist' ? ' (Debian: apt-get install dataset-fashion-mnist; the setup step installs it)' : '';
    throw new Error(`${spec}: no such folder ${folder || '(none given)'}${hint}`);
  }
  if (split === 'unlabeled' && kind !== 'stl10') throw new Error(`${spec}: only stl10 has an unlabeled split`);
  switch (kind) {
    case 'cifar10': return readCifar10(folder, split as 'train' | 'test');
    case 'cifar100': return readCifar100(folder, split as 'train' | 'test');
    case 'stl10': return readStl10(folder, split as 'train' | 'test' | 'unlabeled');
    default: return readIdx(...idxPair(folder, split, spec));
  }
}
