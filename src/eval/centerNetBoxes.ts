/**
 * Boxes to CenterNet's training targets and its outputs back to boxes (Zhou et al., 2019, Sec. 3-4).
 * Targets on a map of h x w cells of `stride` pixels: per class a heatmap with a Gaussian at each
 * object's centre cell (radius from the box size at IoU 0.7, CenterNet's gaussian_radius; sigma =
 * diameter / 6; overlapping Gaussians merged by max), and at the centre cell the box size in cells
 * and the centre's sub-cell offset. Decoding keeps the heatmap's 3x3 local maxima (the paper's
 * max-pool "NMS"), takes the top k over classes and cells, and places a box of the predicted size at
 * the offset centre.
 *
 * ```ts
 * const t = centerNetTargets(boxes, { numClasses: 3, stride: 8, height: 8, width: 8 });
 * const detections = decodeCenterNet(head.parts(map), { stride: 8, topK: 100 });
 * ```
 */
import type { Box, LabelledBox } from '../data/index.js';
import { type Tensor, maxPool2d, noGrad, tensor, tidy } from '../tensor/index.js';
import type { Detection } from './detectionMetrics.js';

export interface CenterNetTargets {
  /** [B, classes, h, w] in [0, 1], 1 at centres */
  heatmap: Tensor;
  /** [B, 2, h, w]: w, h in cells at centre cells */
  size: Tensor;
  /** [B, 2, h, w]: x, y offsets of the centre in its cell */
  offset: Tensor;
  /** [B, 1, h, w]: 1 at centre cells */
  mask: Tensor;
}

/** CenterNet's gaussian_radius: the radius within which a shifted box keeps IoU >= minOverlap with the true one (h, w in cells). */
export function gaussianRadius(h: number, w: number, minOverlap = 0.7): number {
  const root = (a: number, b: number, c: number) => (b + Math.sqrt(b * b - 4 * a * c)) / 2;
  const r1 = root(1, h + w, (w * h * (1 - minOverlap)) / (1 + minOverlap));
  const r2 = root(4, 2 * (h + w), (1 - minOverlap) * w * h);
  const r3 = root(4 * minOverlap, -2 * minOverlap * (h + w), (minOverlap - 1) * w * h);
  return Math.min(r1, r2, r3);
}

export function centerNetTargets(boxes: LabelledBox[][], o: { numClasses: number; stride: number; height: number; width: number }): CenterNetTargets {
  const { numClasses: k, stride, height: h, width: w } = o;
  const n = boxes.length;
  const heat = new Float32Array(n * k * h * w);
  const size = new Float32Array(n * 2 * h * w);
  const offset = new Float32Array(n * 2 * h * w);
  const mask = new Float32Array(n * h * w);
  boxes.forEach((objects, b) => {
    for (const { box, label } of objects) {
      if (!(label >= 0 && label < k)) throw new Error(`centerNetTargets: label ${label} is not in [0, ${k})`);
      const [bw, bh] = [(box[2] - box[0]) / stride, (box[3] - box[1]) / stride];
      const [cx, cy] = [(box[0] + box[2]) / 2 / stride, (box[1] + box[3]) / 2 / stride];
      const [px, py] = [Math.min(w - 1, Math.max(0, Math.floor(cx))), Math.min(h - 1, Math.max(0, Math.floor(cy)))];
      const radius = Math.max(0, Math.floor(gaussianRadius(Math.ceil(bh), Math.ceil(bw))));
      const sigma = (2 * radius + 1) / 6;
      for (let y = Math.max(0, py - radius); y <= Math.min(h - 1, py + radius); y++) {
        for (let x = Math.max(0, px - radius); x <= Math.min(w - 1, px + radius); x++) {
          const value = Math.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * sigma * sigma));
          const at = ((b * k + label) * h + y) * w + x;
          heat[at] = Math.max(heat[at], value);
        }
      }
      const cell = py * w + px;
      size[(b * 2) * h * w + cell] = bw;
      size[(b * 2 + 1) * h * w + cell] = bh;
      offset[(b * 2) * h * w + cell] = cx - px;
      offset[(b * 2 + 1) * h * w + cell] = cy - py;
      mask[b * h * w + cell] = 1;
    }
  });
  return {
    heatmap: tensor(heat, { shape: [n, k, h, w] }), size: tensor(size, { shape: [n, 2, h, w] }),
    offset: tensor(offset, { shape: [n, 2, h, w] }), mask: tensor(mask, { shape: [n, 1, h, w] }),
  };
}

/** Boxes of every image from the head's outputs (heatmap logits, sizes and offsets as {@link centerNetTargets}). */
export function decodeCenterNet(parts: { heatmap: Tensor; size: Tensor; offset: Tensor }, o: { stride: number; topK?: number; minScore?: number }): Detection[][] {
  const [n, k, h, w] = parts.heatmap.shape;
  const top = Math.min(o.topK ?? 100, k * h * w);
  const [scores, indices, sizes, offsets] = tidy(() => noGrad(() => {
    const heat = parts.heatmap.sigmoid();
    const peaks = heat.mul(heat.eq(maxPool2d(heat, 3, { stride: 1, padding: 1 })).float());
    const [s, i] = peaks.reshape(n, k * h * w).topk(top, 1);
    return [s.data() as Float32Array, i.data() as BigInt64Array, parts.size.contiguous().data() as Float32Array, parts.offset.contiguous().data() as Float32Array];
  }));
  return Array.from({ length: n }, (_, b) => {
    const out: Detection[] = [];
    for (let j = 0; j < top; j++) {
      const score = scores[b * top + j];
      if (score < (o.minScore ?? 0.001)) break;
      const index = Number(indices[b * top + j]);
      const label = Math.floor(index / (h * w));
      const cell = index % (h * w);
      const [y, x] = [Math.floor(cell / w), cell % w];
      const at = (channel: number) => (b * 2 + channel) * h * w + cell;
      const [cx, cy] = [(x + offsets[at(0)]) * o.stride, (y + offsets[at(1)]) * o.stride];
      const [bw, bh] = [Math.max(0, sizes[at(0)]) * o.stride, Math.max(0, sizes[at(1)]) * o.stride];
      const box: Box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2];
      out.push({ box, label, score });
    }
    return out;
  });
}
