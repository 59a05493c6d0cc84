/**
 * The augmentation recipes of the papers, as view configs, scaled to the image size and adapted
 * to the domain. At 224 they are the papers' own; for small images (side <= 64, CIFAR/STL-style)
 * the Gaussian blur is dropped as in SimCLR's CIFAR experiments (App. B.9) and solo-learn's CIFAR
 * configs, and SimCLR's colour strength is 0.5 instead of 1.
 * - simclr (Chen et al., 2020, App. A): crop 0.08-1, flip, jitter 0.8s/0.8s/0.8s/0.2s p 0.8, grey 0.2, blur p 0.5;
 * - moco_v2 "aug+" (Chen et al., 2020b) and simsiam (Chen & He, 2021): crop 0.2-1, jitter 0.4/0.4/0.4/0.1 p 0.8, grey 0.2, blur p 0.5;
 * - byol (Grill et al., 2020, Table 6), moco_v3, barlow_twins, vicreg: asymmetric, blur 1.0 / 0.1, solarize 0 / 0.2,
 *   jitter 0.4/0.4/0.2/0.1 p 0.8, grey 0.2;
 * - dino (Caron et al., 2021): 2 global crops 0.4-1 (blur 1.0; blur 0.1 + solarize 0.2) and N local crops 0.05-0.4
 *   at 96/224 of the side (blur 0.5);
 * - mae (He et al., 2022): one view, crop 0.2-1, flip, bicubic; random patch masking 75% in the model;
 * - beit (Bao et al., 2022): one view, crop 0.08-1, flip, jitter 0.4, blockwise mask of 40% of the patches;
 * - supervised / linear: crop 0.08-1 + flip; eval: centre view, no randomness.
 * Domains: 'grayscale' (medical, X-ray, MNIST) drops colour jitter, grey and solarize; 'aerial' adds vertical
 * flips and 90-degree rotations.
 *
 * ```ts
 * const views = methodViews('simclr', { size: 32, normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } });
 * views.views.length;   // 2
 * ```
 */
import { IMAGENET_MEAN, IMAGENET_STD } from './colorOps.js';
import { type ViewConfig, checkViewConfig } from './viewPipeline.js';

export const VIEW_PRESETS = ['simclr', 'moco_v2', 'moco_v3', 'byol', 'simsiam', 'barlow_twins', 'vicreg', 'dino', 'ibot', 'mae', 'beit', 'supervised', 'linear', 'eval'] as const;
export type ViewPreset = typeof VIEW_PRESETS[number];
export type Domain = 'natural' | 'grayscale' | 'aerial';

/** Masks that go with the views (for masked image modelling), on the first view's patch grid. */
export type MaskConfig =
  | { kind: 'random'; patchSize: number; ratio: number }
  | { kind: 'blockwise'; patchSize: number; ratio: number; minPatches?: number; minAspect?: number };

export interface ViewSet {
  views: ViewConfig[];
  mask?: MaskConfig;
}

export interface PresetOptions {
  /** side of the (global) views */
  size: number;
  domain?: Domain;
  /** per-channel statistics of the data (default ImageNet's) */
  normalize?: { mean: number[]; std: number[] };
  /** DINO: number of local crops (default 6, the paper's 2x224 + 6x96 setting) */
  localCrops?: number;
  /** DINO: side of the local crops (default 96/224 of size, a multiple of 8 and of patchSize) */
  localSize?: number;
  /** the ViT's patch size: MAE/BEiT's mask grid, DINO's local crop sides (default 16, or 4 for sides <= 64) */
  patchSize?: number;
  /** MAE/BEiT: fraction of patches masked (default 0.75 / 0.4) */
  maskRatio?: number;
}

const SMALL = 64;

function jitter(b: number, c: number, s: number, h: number) {
  return { brightness: b, contrast: c, saturation: s, hue: h, p: 0.8 };
}

/** The views and masks of a method's recipe. */
export function methodViews(method: ViewPreset, o: PresetOptions): ViewSet {
  const { size } = o;
  const small = size <= SMALL;
  const blurP = (p: number) => (small ? undefined : { p, sigma: [0.1, 2] as [number, number] });
  const base = { size, horizontalFlip: 0.5, normalize: o.normalize ?? { mean: IMAGENET_MEAN, std: IMAGENET_STD } };
  const patchSize = o.patchSize ?? (small ? 4 : 16);
  let set: ViewSet;
  switch (method) {
    case 'simclr': {
      const s = small ? 0.5 : 1;
      const view: ViewConfig = { ...base, crop: { scale: [0.08, 1] }, colorJitter: jitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s), grayscale: 0.2, blur: blurP(0.5) };
      set = { views: [view, view] };
      break;
    }
    case 'moco_v2':
    case 'simsiam': {
      const view: ViewConfig = { ...base, crop: { scale: [0.2, 1] }, colorJitter: jitter(0.4, 0.4, 0.4, 0.1), grayscale: 0.2, blur: blurP(0.5) };
      set = { views: [view, view] };
      break;
    }
    case 'moco_v3':
    case 'byol':
    case 'barlow_twins':
    case 'vicreg': {
      const common: ViewConfig = { ...base, crop: { scale: [0.08, 1] }, colorJitter: jitter(0.4, 0.4, 0.2, 0.1), grayscale: 0.2 };
      set = { views: [{ ...common, blur: blurP(1) }, { ...common, blur: blurP(0.1), solarize: { p: 0.2 } }] };
      break;
    }
    case 'dino':
    case 'ibot': {
      const common: ViewConfig = { ...base, colorJitter: jitter(0.4, 0.4, 0.2, 0.1), grayscale: 0.2 };
      const global: ViewConfig = { ...common, crop: { scale: [0.4, 1] }, interpolation: 'bicubic' };
      // 96/224 of the global side, a multiple of 8 and of the ViT's patch (a 96 px run's locals: 48 with patch 16, not 40)
      const unit = 8 % patchSize === 0 ? 8 : patchSize;
      const localSize = o.localSize ?? Math.max(unit, unit * Math.round((size * 96) / 224 / unit));
      const local: ViewConfig = { ...common, size: localSize, crop: { scale: [0.05, 0.4] }, interpolation: 'bicubic', blur: blurP(0.5) };
      const locals = o.localCrops ?? 6;
      if (!(Number.isInteger(locals) && locals >= 0)) throw new Error(`dino: localCrops must be a non-negative integer, got ${locals}`);
      set = { views: [{ ...global, blur: blurP(1) }, { ...global, blur: blurP(0.1), solarize: { p: 0.2 } }, ...Array<ViewConfig>(locals).fill(local)] };
      break;
    }
    case 'mae':
      set = { views: [{ ...base, crop: { scale: [0.2, 1] }, interpolation: 'bicubic' }], mask: { kind: 'random', patchSize, ratio: o.maskRatio ?? 0.75 } };
      break;
    case 'beit':
      set = {
        views: [{ ...base, crop: { scale: [0.08, 1] }, colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0 } }],
        mask: { kind: 'blockwise', patchSize, ratio: o.maskRatio ?? 0.4, minPatches: small ? 4 : 16 },
      };
      break;
    case 'supervised':
    case 'linear':
      set = { views: [{ ...base, crop: { scale: [0.08, 1] } }] };
      break;
    case 'eval':
      set = { views: [{ size, crop: 'center', centerFraction: small ? 1 : 224 / 256, normalize: base.normalize }] };
      break;
    default:
      throw new Error(`unknown view preset '${String(method)}' (expected one of ${VIEW_PRESETS.join(', ')})`);
  }
  set = { ...set, views: set.views.map((v) => forDomain(v, o.domain ?? 'natural')) };
  set.views.forEach((v, i) => checkViewConfig(v, `${method}.views[${i}]`));
  return set;
}

/** Adapts a view to a domain: no colour changes for grayscale data, all orientations for aerial data. */
export function forDomain(view: ViewConfig, domain: Domain): ViewConfig {
  if (domain === 'grayscale') {
    const { colorJitter: _jitter, grayscale: _grey, solarize: _solarize, ...rest } = view;
    return rest;
  }
  if (domain === 'aerial' && view.crop !== 'center') return { ...view, verticalFlip: 0.5, rotate90: 1 };
  if (domain !== 'natural' && domain !== 'aerial') throw new Error(`unknown domain '${String(domain)}' (expected natural, grayscale or aerial)`);
  return view;
}
