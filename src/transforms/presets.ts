/**
 * View recipes as data, and how one becomes the views of a run at its image size and domain.
 * Each method's recipe (src/methods/<method>.ts, `recipe.views`) says which crops, colour changes,
 * blur and masks its paper trains on; `buildViews` scales that to the run:
 * - size and normalisation come from the run (the local crops of multi-crop at `sideFraction` of
 *   the side, a multiple of 8 and of the ViT's patch);
 * - small images (side <= 64, CIFAR/STL-style) drop the Gaussian blur, as SimCLR's CIFAR
 *   experiments (App. B.9) and solo-learn's CIFAR configs do, multiply the colour jitter by the
 *   recipe's `smallImageColorStrength`, take the whole image in centre views and use 4 px patches
 *   for masks;
 * - domains: 'grayscale' (medical, X-ray, MNIST) drops colour jitter, grey and solarize; 'aerial'
 *   adds vertical flips and 90-degree rotations.
 * The evaluation views (`linear`: crop 0.08-1 + flip; `eval`: centre view, no randomness) are here;
 * the methods' are with their methods (`methodViews` in src/methods).
 *
 * ```ts
 * const recipe: ViewRecipe = { views: [{ crop: { scale: [0.2, 1] }, horizontalFlip: 0.5 }] };
 * const set = buildViews(recipe, { size: 32, normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } });
 * ```
 */
import { IMAGENET_MEAN, IMAGENET_STD } from './colorOps.js';
import { type ViewConfig, checkViewConfig } from './viewPipeline.js';

export type Domain = 'natural' | 'grayscale' | 'aerial';

/** Masks that go with the views (for masked image modelling), on the first view's patch grid. */
export type MaskConfig =
  | { kind: 'random'; patchSize: number; ratio: number }
  | { kind: 'blockwise'; patchSize: number; ratio: number; minPatches?: number; minAspect?: number };

export interface ViewSet {
  views: ViewConfig[];
  mask?: MaskConfig;
}

/** A view without the run's size and normalisation. */
export type ViewTemplate = Omit<ViewConfig, 'size' | 'normalize'>;

/** The views a method trains on, independent of the image size (see the module comment). */
export interface ViewRecipe {
  /** the global views, in order (two for the two-view methods, one for MAE and BEiT) */
  views: ViewTemplate[];
  /** multi-crop (DINO, iBOT): `count` smaller views at `sideFraction` of the global side */
  localViews?: { count: number; sideFraction: number; view: ViewTemplate };
  /**
   * masked image modelling: random (MAE) or blockwise (BEiT) masks of `ratio` of the patches; with
   * `cellPatches`, random masks of squares of that many patches a side (SimMIM: 32-px squares on 16-px patches)
   */
  mask?: { kind: 'random' | 'blockwise'; ratio: number; cellPatches?: number };
  /** at 64 px and less, the colour jitter's strength times this (SimCLR App. B.9: 0.5); default 1 */
  smallImageColorStrength?: number;
}

export interface PresetOptions {
  /** side of the (global) views */
  size: number;
  domain?: Domain;
  /** per-channel statistics of the data (default ImageNet's) */
  normalize?: { mean: number[]; std: number[] };
  /** multi-crop: number of local crops (default the recipe's) */
  localCrops?: number;
  /** multi-crop: side of the local crops (default the recipe's fraction of size, a multiple of 8 and of patchSize) */
  localSize?: number;
  /** the ViT's patch size: the mask grid, the local crop sides (default 16, or 4 for sides <= 64) */
  patchSize?: number;
  /** masked image modelling: fraction of patches masked (default the recipe's) */
  maskRatio?: number;
}

const SMALL = 64;

/** The evaluation views: a linear probe's random crop and flip, and the deterministic centre view. */
export const EVALUATION_VIEW_RECIPES = {
  linear: { views: [{ crop: { scale: [0.08, 1] }, horizontalFlip: 0.5 }] },
  eval: { views: [{ crop: 'center', centerFraction: 224 / 256 }] },
} satisfies Record<string, ViewRecipe>;
export type EvaluationViews = keyof typeof EVALUATION_VIEW_RECIPES;

/** A view recipe at a run's size, domain and normalisation; `name` names the recipe in errors. */
export function buildViews(recipe: ViewRecipe, o: PresetOptions, name = 'views'): ViewSet {
  const { size } = o;
  const small = size <= SMALL;
  const patchSize = o.patchSize ?? (small ? 4 : 16);
  const normalize = o.normalize ?? { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  const atSize = (template: ViewTemplate, side: number): ViewConfig => {
    const view: ViewConfig = { ...template, size: side, normalize };
    if (!small) return view;
    const strength = recipe.smallImageColorStrength ?? 1;
    const { blur: _blur, ...rest } = view;
    const jitter = rest.colorJitter;
    // a strength scales a symmetric range's half-width; an explicit [min, max] is kept as written
    const scaled = (v: number | [number, number] | undefined) => (typeof v === 'number' ? v * strength : v);
    return {
      ...rest,
      ...(rest.crop === 'center' ? { centerFraction: 1 } : {}),
      ...(jitter && strength !== 1 ? {
        colorJitter: { ...jitter, brightness: scaled(jitter.brightness), contrast: scaled(jitter.contrast), saturation: scaled(jitter.saturation), hue: scaled(jitter.hue) },
      } : {}),
    };
  };
  const views = recipe.views.map((v) => atSize(v, size));
  if (recipe.localViews) {
    const locals = o.localCrops ?? recipe.localViews.count;
    if (!(Number.isInteger(locals) && locals >= 0)) throw new Error(`${name}: localCrops must be a non-negative integer, got ${locals}`);
    // a multiple of 8 and of the ViT's patch (a 96 px run's locals: 48 with patch 16, not 40)
    const unit = 8 % patchSize === 0 ? 8 : patchSize;
    const localSize = o.localSize ?? Math.max(unit, unit * Math.round((size * recipe.localViews.sideFraction) / unit));
    views.push(...Array<ViewConfig>(locals).fill(atSize(recipe.localViews.view, localSize)));
  }
  let mask: MaskConfig | undefined;
  if (recipe.mask) {
    const ratio = o.maskRatio ?? recipe.mask.ratio;
    mask = recipe.mask.kind === 'random'
      ? { kind: 'random', patchSize: patchSize * (recipe.mask.cellPatches ?? 1), ratio }
      : { kind: 'blockwise', patchSize, ratio, minPatches: small ? 4 : 16 };
  }
  const set: ViewSet = { views: views.map((v) => forDomain(v, o.domain ?? 'natural')), ...(mask ? { mask } : {}) };
  set.views.forEach((v, i) => checkViewConfig(v, `${name}.views[${i}]`));
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
