/**
 * `selfsup pack <folder|csv|glob> --out photos.pack [--max-side 320] [--format jpeg|raw]`: a photo
 * folder packed into one memory-mapped file (see data/photoPack.ts) that `--data photos.pack` trains
 * from: each photo resized once so its longer side is at most --max-side, unreadable files skipped
 * and counted, progress with images/s and the ETA.
 */
import { existsSync, statSync } from 'node:fs';
import { listImages, writePhotoPack } from '../data/index.js';
import { Progress } from '../train/progress.js';
import { UsageError, choiceOption, integerOption, parseWithPositionals, requireString } from './options.js';

export const PACK_USAGE = `usage: selfsup pack <folder | file.csv | 'glob/**/*.jpg'> --out <file.pack> [options]

  --max-side <px>     the longest side kept, aspect ratio kept, never enlarged (default 320: room for 224-px
                      crops and the 256-px evaluation resize; use 160 for 96-128 px training)
  --format <f>        jpeg (default, quality --quality 90) or raw (8-bit RGB: no decoding, about 10x larger)
  --overwrite         replace an existing pack
Train from it with selfsup pretrain --data <file.pack>; labels (class folders, CSV) are kept.`;

export async function packCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseWithPositionals(argv, {
    out: { type: 'string' }, 'max-side': { type: 'string' }, format: { type: 'string' }, quality: { type: 'string' }, overwrite: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one folder, CSV or glob pattern to pack, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  const spec = positionals[0];
  const out = requireString(v, 'out');
  if (!out.endsWith('.pack')) throw new UsageError(`--out ${out}: a pack's name ends in .pack (that is how --data knows it)`);
  if (existsSync(out) && !v.overwrite) throw new UsageError(`--out ${out} exists; --overwrite to replace it`);
  const maxSide = integerOption(v, 'max-side', 320, 8);
  const encoding = choiceOption(v, 'format', ['jpeg', 'raw'] as const, 'jpeg');
  const quality = integerOption(v, 'quality', 90, 1);
  if (quality > 100) throw new UsageError(`--quality must be from 1 to 100, got ${quality}`);
  const folder = listImages(spec);
  if (!folder) throw new UsageError(`${spec}: expected a folder of images, a CSV of path,label or a glob pattern (binary data sets and packs are not packed)`);
  const progress = new Progress('pack', folder.length, 1);
  const footer = await writePhotoPack(folder, out, { maxSide, encoding, quality, onProgress: (done) => progress.update(done) });
  progress.done();
  const skipped = footer.skipped.length > 0 ? `; ${footer.skipped.length} unreadable files skipped (named above)` : '';
  console.log(`packed ${footer.count} photos of ${spec} (longer side <= ${maxSide}, ${encoding}${footer.labelled ? `, ${footer.classes.length} classes` : ''}) into ${out}: ${(statSync(out).size / 2 ** 20).toFixed(1)} MB${skipped}`);
}
