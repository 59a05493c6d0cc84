/**
 * Images with per-pixel class labels for the segmentation probe: a deterministic synthetic set
 * (discs, squares and triangles over textured backgrounds, each shape class in its own colour family
 * with random brightness; later shapes cover earlier ones) and a reader for a folder of image + mask
 * PNG pairs (`images/<name>.png|jpg` with `masks/<name>.png`, each mask pixel a class id).
 *
 * ```ts
 * const { images, masks, classes } = syntheticSegmentation(500, { size: 32, seed: 0 });  // masks: uint8 N x H x W
 * const mine = await readSegmentationFolder('data/roads', { size: 64 });
 * ```
 */
import { readdirSync } from 'node:fs';
import { extname, join, parse } from 'node:path';
import sharp from 'sharp';
import { Generator, arange, tensor, tidy, where, zeros } from '../tensor/index.js';
import { uniformStream } from '../transforms/index.js';
import { ImageArray } from './imageArray.js';
import { SHAPE_CLASSES, shapeColour, shapeInside, texturedBackground } from './syntheticShapes.js';

export interface SegmentationSet {
  images: ImageArray;
  /** N x H x W class ids */
  masks: Uint8Array;
  classes: string[];
}

export const SYNTHETIC_CLASSES = ['background', ...SHAPE_CLASSES];

export function syntheticSegmentation(count: number, o: { size?: number; seed?: number } = {}): SegmentationSet {
  const size = o.size ?? 32;
  const generator = new Generator(o.seed ?? 0);
  const uniform = uniformStream(generator);
  const pixels = new Uint8Array(count * 3 * size * size);
  const masks = new Uint8Array(count * size * size);
  tidy(() => {
    const ys = arange(0, size).float().view(size, 1).expand(size, size); // [H, W]
    const xs = arange(0, size).float().view(1, size).expand(size, size);
    for (let n = 0; n < count; n++) {
      tidy(() => {
        let image = texturedBackground(size, generator); // [3, H, W]
        let label = zeros([size, size], { dtype: 'uint8' });
        const shapes = 1 + Math.floor(uniform() * 3);
        for (let s = 0; s < shapes; s++) {
          const cls = 1 + Math.floor(uniform() * 3);
          const r = size * (0.12 + 0.13 * uniform());
          const [cy, cx] = [r + uniform() * (size - 2 * r), r + uniform() * (size - 2 * r)];
          const inside = shapeInside(ys, xs, cls - 1, cy, cx, r);
          const colour = shapeColour(cls - 1, 0.6 + 0.4 * uniform());
          image = where(inside.unsqueeze(0), colour.expand(3, size, size), image);
          label = where(inside, tensor(cls, { dtype: 'uint8' }), label);
        }
        pixels.set(image.mul(255).round().to('uint8').contiguous().toBytes(), n * 3 * size * size);
        masks.set(label.contiguous().toBytes(), n * size * size);
      });
    }
  });
  return { images: new ImageArray(pixels, 3, size, size, null, [], null), masks, classes: SYNTHETIC_CLASSES };
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/** `dir/images/*` with `dir/masks/<same name>.png`, resized to size x size (images bilinear, masks nearest). */
export async function readSegmentationFolder(dir: string, o: { size: number; classes?: string[] }): Promise<SegmentationSet> {
  const imageDir = join(dir, 'images');
  const maskDir = join(dir, 'masks');
  let names: string[];
  try {
    names = readdirSync(imageDir).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  } catch (error) {
    throw new Error(`${dir}: expected a folder with images/ and masks/ (${(error as Error).message})`);
  }
  if (names.length === 0) throw new Error(`${imageDir}: no images (.png, .jpg, .jpeg, .webp)`);
  const { size } = o;
  const pixels = new Uint8Array(names.length * 3 * size * size);
  const masks = new Uint8Array(names.length * size * size);
  let largest = 0;
  for (const [i, name] of names.entries()) {
    const imagePath = join(imageDir, name);
    const maskPath = join(maskDir, `${parse(name).name}.png`);
    let rgb: Buffer;
    let mask: Buffer;
    try {
      rgb = await sharp(imagePath).removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer();
    } catch (error) {
      throw new Error(`${imagePath}: not a readable image (${(error as Error).message})`);
    }
    try {
      mask = await sharp(maskPath).extractChannel(0).resize(size, size, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
    } catch (error) {
      throw new Error(`${maskPath}: the mask of ${name} is missing or unreadable (${(error as Error).message})`);
    }
    pixels.set(tidy(() => tensor(rgb, { shape: [size, size, 3], dtype: 'uint8' }).permute(2, 0, 1).contiguous().toBytes()), i * 3 * size * size); // HWC -> CHW
    masks.set(mask, i * size * size);
    for (const v of mask) largest = Math.max(largest, v);
  }
  const classes = o.classes ?? Array.from({ length: largest + 1 }, (_, c) => `class ${c}`);
  return { images: new ImageArray(pixels, 3, size, size, null, [], names.map((n) => join(imageDir, n))), masks, classes };
}
