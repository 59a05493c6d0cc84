/**
 * I-JEPA's multi-block masks (Assran et al., 2023, Sec. 3 "Targets" and "Context", App. C): per
 * image, `targets` blocks of the patch grid (each 15-20% of it, aspect ratio 0.75-1.5), which the
 * predictor must predict, and one context block (85-100% of the grid, square) from which every
 * target patch is removed, which is all the context encoder sees. As the reference collator, the
 * block sizes are drawn once per batch and the positions per image, so every image has targets of
 * the same size; context blocks are redrawn until they keep more than `minKeep` patches (after 20
 * tries, one target fewer constrains them), then every image's context is cut to the batch's
 * smallest. The reference keeps the first patches in raster order; here a random subset, so that
 * no part of the image is dropped more often than another.
 *
 * ```ts
 * const { context, targets } = multiBlockMask(128, 8, 8, {}, generator);
 * // context: int64 [128, C] ascending patch ids; targets: int64 [4, 128, T] (T = the target block's h x w)
 * ```
 */
import { type Generator, type Tensor, tensor } from '../tensor/index.js';
import { between, uniformStream } from './uniformStream.js';

export interface MultiBlockMaskOptions {
  /** target blocks per image (default 4) */
  targets?: number;
  /** a target block's share of the grid (default [0.15, 0.2]) */
  targetScale?: [number, number];
  /** a target block's height / width (default [0.75, 1.5]) */
  targetAspect?: [number, number];
  /** the context block's share of the grid before the targets are removed (default [0.85, 1]) */
  contextScale?: [number, number];
  /** fewer context patches than this are redrawn (default 10, the reference's min_keep; at most a quarter of the grid) */
  minKeep?: number;
}

export interface MultiBlockMask {
  /** int64 [B, C]: each image's context patches, ascending */
  context: Tensor;
  /** int64 [M, B, T]: each image's M target blocks, their patches in raster order */
  targets: Tensor;
}

const DEFAULTS = { targets: 4, targetScale: [0.15, 0.2] as [number, number], targetAspect: [0.75, 1.5] as [number, number], contextScale: [0.85, 1] as [number, number], minKeep: 10 };

/** A block's height and width: `scale` of the grid at aspect ratio h / w, kept inside the grid. */
function blockSize(uniform: () => number, height: number, width: number, scale: [number, number], aspect: [number, number]): [number, number] {
  const area = Math.floor(height * width * between(uniform, scale[0], scale[1]));
  const ratio = between(uniform, aspect[0], aspect[1]);
  const h = Math.round(Math.sqrt(area * ratio));
  const w = Math.round(Math.sqrt(area / ratio));
  return [Math.max(1, Math.min(h, height - 1)), Math.max(1, Math.min(w, width - 1))];
}

/** The patch ids of an h x w block at a random position. */
function placeBlock(uniform: () => number, height: number, width: number, [h, w]: [number, number]): number[] {
  const top = Math.floor(uniform() * (height - h + 1));
  const left = Math.floor(uniform() * (width - w + 1));
  const ids: number[] = [];
  for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) ids.push(i * width + j);
  return ids;
}

export function multiBlockMask(batch: number, height: number, width: number, o: MultiBlockMaskOptions = {}, generator?: Generator): MultiBlockMask {
  const count = o.targets ?? DEFAULTS.targets;
  const patches = height * width;
  const minKeep = Math.min(o.minKeep ?? DEFAULTS.minKeep, Math.floor(patches / 4));
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`multiBlockMask: targets must be a whole number >= 1, got ${count}`);
  if (!(height >= 2 && width >= 2)) throw new Error(`multiBlockMask: the patch grid must be at least 2 x 2, got ${height} x ${width}`);
  for (const [name, [low, high]] of [['targetScale', o.targetScale ?? DEFAULTS.targetScale], ['contextScale', o.contextScale ?? DEFAULTS.contextScale]] as const) {
    if (!(low > 0 && low <= high && high <= 1)) throw new Error(`multiBlockMask: ${name} must be [low, high] within (0, 1], got [${low}, ${high}]`);
  }
  const uniform = uniformStream(generator);
  const targetSize = blockSize(uniform, height, width, o.targetScale ?? DEFAULTS.targetScale, o.targetAspect ?? DEFAULTS.targetAspect);
  const contextSize = blockSize(uniform, height, width, o.contextScale ?? DEFAULTS.contextScale, [1, 1]);

  const targets: number[][][] = Array.from({ length: count }, () => []); // [M][B][T]
  const contexts: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const blocks = Array.from({ length: count }, () => placeBlock(uniform, height, width, targetSize));
    blocks.forEach((ids, m) => targets[m].push(ids));
    // The context block without the targets' patches; after 20 short draws, one target fewer constrains it.
    for (let tries = 0, excluded = count; ; tries++) {
      if (tries > 0 && tries % 20 === 0) excluded = Math.max(0, excluded - 1);
      const hidden = new Set(blocks.slice(0, excluded).flat());
      const kept = placeBlock(uniform, height, width, contextSize).filter((id) => !hidden.has(id));
      if (kept.length > minKeep || excluded === 0) {
        contexts.push(kept);
        break;
      }
    }
  }
  // Every image keeps as many context patches as the batch's smallest context: a random subset, ascending.
  const keep = Math.min(...contexts.map((c) => c.length));
  const context = new BigInt64Array(batch * keep);
  contexts.forEach((ids, b) => {
    for (let i = ids.length - 1; i > 0; i--) { // Fisher-Yates, then the first `keep`
      const j = Math.floor(uniform() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    context.set(ids.slice(0, keep).sort((x, y) => x - y).map(BigInt), b * keep);
  });
  const t = targetSize[0] * targetSize[1];
  return {
    context: tensor(context, { shape: [batch, keep], dtype: 'int64' }),
    targets: tensor(BigInt64Array.from(targets.flat(2), BigInt), { shape: [count, batch, t], dtype: 'int64' }),
  };
}
