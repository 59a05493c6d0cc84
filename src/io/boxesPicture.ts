/**
 * Test images with their boxes drawn, for the detection report: each image scaled (nearest) to a
 * `cell`-pixel tile, true boxes as white dashed frames, predicted boxes above `minScore` in a colour
 * per class with the class name and score; tiles in rows of `columns`. SVG over the tiles,
 * rasterised by sharp.
 *
 * ```ts
 * await writeBoxesPicture('detections.png', images, truth, predictions, ['disc', 'square', 'triangle']);
 * ```
 */
import sharp from 'sharp';
import type { Tensor } from '../tensor/index.js';
import { tidy } from '../tensor/index.js';
import { atomicWriteFile } from './atomicWrite.js';

type Box = [number, number, number, number];
const COLOURS = ['#f28e2b', '#59a14f', '#4e79a7', '#e15759', '#edc948', '#b07aa1', '#76b7b2', '#9c755f'];

/** `images` uint8 [N, 3, H, W]; boxes in the images' pixels. */
export async function writeBoxesPicture(
  path: string, images: Tensor, truth: { box: Box; label: number }[][], predictions: { box: Box; label: number; score: number }[][], classes: string[],
  o: { cell?: number; columns?: number; minScore?: number } = {},
): Promise<void> {
  const [n, , h, w] = images.shape;
  const cell = o.cell ?? 160;
  const columns = Math.min(o.columns ?? 4, n);
  const rows = Math.ceil(n / columns);
  const [sx, sy] = [cell / w, cell / h];
  const hwc = tidy(() => images.permute(0, 2, 3, 1).contiguous().toBytes());
  const tiles = await Promise.all(Array.from({ length: n }, async (_, i) => ({
    input: await sharp(hwc.subarray(i * h * w * 3, (i + 1) * h * w * 3), { raw: { width: w, height: h, channels: 3 } }).resize(cell, cell, { kernel: 'nearest' }).png().toBuffer(),
    left: (i % columns) * cell, top: Math.floor(i / columns) * cell,
  })));
  const rect = (b: Box, left: number, top: number, style: string) =>
    `<rect x="${(left + b[0] * sx).toFixed(1)}" y="${(top + b[1] * sy).toFixed(1)}" width="${((b[2] - b[0]) * sx).toFixed(1)}" height="${((b[3] - b[1]) * sy).toFixed(1)}" fill="none" ${style}/>`;
  const shapes: string[] = [];
  for (let i = 0; i < n; i++) {
    const [left, top] = [(i % columns) * cell, Math.floor(i / columns) * cell];
    for (const t of truth[i] ?? []) shapes.push(rect(t.box, left, top, 'stroke="white" stroke-width="2" stroke-dasharray="4 3"'));
    for (const p of (predictions[i] ?? []).filter((d) => d.score >= (o.minScore ?? 0.3))) {
      const colour = COLOURS[p.label % COLOURS.length];
      shapes.push(rect(p.box, left, top, `stroke="${colour}" stroke-width="2"`));
      shapes.push(`<text x="${(left + p.box[0] * sx + 2).toFixed(1)}" y="${(top + p.box[1] * sy + 11).toFixed(1)}" font-family="sans-serif" font-size="11" fill="${colour}">${classes[p.label] ?? p.label} ${p.score.toFixed(2)}</text>`);
    }
  }
  const [width, height] = [columns * cell, rows * cell];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  const png = await sharp({ create: { width, height, channels: 3, background: '#202020' } })
    .composite([...tiles, { input: Buffer.from(svg), left: 0, top: 0 }]).png().toBuffer();
  atomicWriteFile(path, [png]);
}
