/**
 * Mask generators of masked image modelling, seeded by a {@link Generator}:
 * - random patch masking (MAE, He et al., 2022): per sample, shuffle the patches by random
 *   noise and keep the first (1 - ratio); returns the kept ids, the ids that restore patch
 *   order, and the boolean mask (true = masked), exactly as MAE's random_masking.
 * - blockwise masking (BEiT, Bao et al., 2022): rectangles of at least 16 patches with aspect
 *   ratio in [0.3, 1/0.3] until about 40% of the patches are masked, as BEiT's MaskingGenerator.
 *
 * ```ts
 * const { keepIds, idsRestore, mask } = randomPatchMask(128, 64, 0.75, gen);  // [128,16], [128,64], [128,64]
 * const blocks = blockwiseMask(128, 14, 14, {}, gen);                          // bool [128, 196]
 * ```
 */
import { type Generator, type Tensor, rand, tensor, tidy, zeros } from '../tensor/index.js';
import type { MaskConfig } from './presets.js';
import { between, uniformStream } from './uniformStream.js';

export interface PatchMask {
  /** int64 [B, V]: the visible patches, in shuffled order (MAE's ids_keep) */
  keepIds: Tensor;
  /** int64 [B, N]: argsort of the shuffle, to put decoder tokens back in patch order */
  idsRestore: Tensor;
  /** bool [B, N]: true where the patch is masked */
  mask: Tensor;
}

export function randomPatchMask(batch: number, patches: number, ratio: number, generator?: Generator): PatchMask {
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`randomPatchMask: ratio must be in [0, 1), got ${ratio}`);
  const visible = Math.floor(patches * (1 - ratio));
  return tidy(() => {
    const shuffle = rand([batch, patches], { generator }).argsort(1); // [B, N]: ascending noise, small = keep
    const idsRestore = shuffle.argsort(1);
    const keepIds = shuffle.slice(1, 0, visible);
    const mask = zeros([batch, patches], { dtype: 'bool' }).scatter(1, shuffle.slice(1, visible), true);
    return { keepIds, idsRestore, mask };
  });
}

export interface BlockwiseOptions {
  /** patches to mask per sample (default 40% of the grid) */
  maskPatches?: number;
  minPatches?: number;
  maxPatches?: number;
  minAspect?: number;
  maxAspect?: number;
}

export function blockwiseMask(batch: number, height: number, width: number, o: BlockwiseOptions = {}, generator?: Generator): Tensor {
  const total = height * width;
  const target = o.maskPatches ?? Math.round(0.4 * total);
  const minPatches = o.minPatches ?? 16;
  const maxPatches = o.maxPatches ?? target;
  const minAspect = o.minAspect ?? 0.3;
  const logAspect = [Math.log(minAspect), Math.log(o.maxAspect ?? 1 / minAspect)];
  if (target > total) throw new Error(`blockwiseMask: ${target} patches to mask in a grid of ${total}`);
  const uniform = uniformStream(generator);
  const out = new Uint8Array(batch * total);
  for (let s = 0; s < batch; s++) {
    const mask = out.subarray(s * total, (s + 1) * total);
    // One block: up to 10 attempts at a rectangle that adds 1..budget new patches.
    const addBlock = (budget: number): number => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const area = between(uniform, minPatches, budget);
        const aspect = Math.exp(between(uniform, logAspect[0], logAspect[1]));
        const h = Math.round(Math.sqrt(area * aspect));
        const w = Math.round(Math.sqrt(area / aspect));
        if (w >= width || h >= height) continue;
        const top = Math.floor(uniform() * (height - h + 1));
        const left = Math.floor(uniform() * (width - w + 1));
        let already = 0;
        for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) already += mask[i * width + j];
        const added = h * w - already;
        if (added > 0 && added <= budget) {
          for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) mask[i * width + j] = 1;
          return added;
        }
      }
      return 0;
    };
    for (let count = 0; count < target;) {
      const added = addBlock(Math.min(target - count, maxPatches));
      if (added === 0) break;
      count += added;
    }
  }
  return tensor(out, { shape: [batch, total], dtype: 'bool' });
}

/** The masks a view set asks for (bool [B, N], true = masked) on a side x side image's patch grid. */
export function masksFor(config: MaskConfig, batch: number, side: number, generator?: Generator): Tensor {
  if (!(Number.isInteger(config.patchSize) && config.patchSize > 0 && side % config.patchSize === 0)) {
    throw new Error(`mask: patchSize ${config.patchSize} must divide the view side ${side}`);
  }
  if (!(config.ratio >= 0 && config.ratio < 1)) throw new Error(`mask: ratio must be in [0, 1), got ${config.ratio}`);
  const grid = side / config.patchSize;
  if (config.kind === 'random') return tidy(() => randomPatchMask(batch, grid * grid, config.ratio, generator).mask);
  return blockwiseMask(batch, grid, grid, {
    maskPatches: Math.round(config.ratio * grid * grid), minPatches: config.minPatches, minAspect: config.minAspect,
  }, generator);
}
