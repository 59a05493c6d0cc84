/**
 * PNG pictures of tensors (augmentation previews, reconstructions, attention maps): an image
 * [3, H, W] or [1, H, W] as uint8 (0..255) or float (0..1, clamped), encoded by sharp and
 * written atomically; and `imageGrid`, which lays out rows of equally sized images with a
 * white gutter.
 *
 * ```ts
 * await writePng('views.png', imageGrid([originals, viewA, viewB]));   // columns of [N, 3, h, w] in [0, 1]
 * ```
 */
import sharp from 'sharp';
import { type Tensor, cat, interpolate, pad, tidy } from '../tensor/index.js';
import { atomicWriteFile } from './atomicWrite.js';

/** Encodes a [C, H, W] image (C = 1 or 3) as PNG bytes. */
export async function encodePng(image: Tensor): Promise<Buffer> {
  if (image.ndim !== 3 || (image.size(0) !== 1 && image.size(0) !== 3)) {
    throw new Error(`PNG: expected an image [1 or 3, H, W], got [${image.shape.join(', ')}]`);
  }
  const [channels, height, width] = image.shape;
  const bytes = tidy(() => {
    const u8 = image.dtype === 'uint8' ? image : image.clamp(0, 1).mul(255).round().to('uint8');
    return u8.permute(1, 2, 0).contiguous().toBytes(); // HWC for libvips
  });
  return sharp(bytes, { raw: { width, height, channels: channels as 1 | 3 } }).png().toBuffer();
}

export async function writePng(path: string, image: Tensor): Promise<void> {
  atomicWriteFile(path, [await encodePng(image)]);
}

/**
 * One picture from columns of images: column k is a batch [N, C, h_k, w_k] of floats in [0, 1];
 * every image is scaled (nearest) to `cell` pixels and framed by a `gutter`. -> float [3, rows, cols].
 */
export function imageGrid(columns: Tensor[], cell = 96, gutter = 2): Tensor {
  if (columns.length === 0) throw new Error('imageGrid: no columns');
  const rows = columns[0].size(0);
  for (const c of columns) {
    if (c.ndim !== 4 || c.size(0) !== rows) throw new Error(`imageGrid: every column must be [${rows}, C, h, w], got [${c.shape.join(', ')}]`);
  }
  return tidy(() => {
    const framed = columns.map((c) => {
      const rgb = c.size(1) === 1 ? c.expand(rows, 3, c.size(2), c.size(3)) : c;
      const scaled = interpolate(rgb.float().contiguous(), [cell, cell], 'nearest');
      return pad(scaled.clamp(0, 1), [gutter, gutter, gutter, gutter], 'constant', 1); // [N, 3, cell + 2g, cell + 2g]
    });
    const band = cat(framed, 3);                                                    // [N, 3, s, s * cols]
    return band.permute(1, 0, 2, 3).reshape(3, rows * band.size(2), band.size(3));  // [3, N * s, s * cols]
  });
}
