/**
 * One augmented view of a batch, described as plain data (so a preset, a config file and a
 * loader worker all share it) and applied in a fixed order, as the torchvision Compose of the
 * SSL papers: crop -> flips/rotations -> colour jitter -> grayscale -> blur -> solarize -> normalize.
 * Grayscale sources (1 channel) are repeated to RGB first; uint8 input becomes float in [0, 1].
 *
 * ```ts
 * const view: ViewConfig = { size: 32, crop: { scale: [0.08, 1] }, horizontalFlip: 0.5,
 *   colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }, grayscale: 0.2,
 *   normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } };
 * const x = applyView(images, view, gen);   // uint8 [B,3,H,W] -> float32 [B,3,32,32]
 * ```
 */
import { type Generator, type Tensor, tidy } from '../tensor/index.js';
import { applyRandomly } from './applyRandomly.js';
import { type ColorJitterOptions, colorJitter } from './colorJitter.js';
import { normalize, randomGrayscale, randomHorizontalFlip, randomSolarize } from './colorOps.js';
import { randomRotation90, randomVerticalFlip } from './flipsAndRotations.js';
import { type GaussianBlurOptions, gaussianBlur } from './gaussianBlur.js';
import { type Interpolation, randomResizedCrop, roundHalfEven, sampleCropBox } from './randomResizedCrop.js';
import { centerCrop, resize } from './resize.js';

export interface ViewConfig {
  /** output side in pixels */
  size: number;
  /**
   * random resized crop (default, scale [0.08, 1], ratio [3/4, 4/3]); 'center' resizes the shorter
   * side to size / centerFraction and takes the centre (evaluation); 'resize' resizes the whole image
   */
  crop?: { scale?: [number, number]; ratio?: [number, number] } | 'center' | 'resize';
  /** evaluation crop: the centre `centerFraction` of the resized image (default 1: no border) */
  centerFraction?: number;
  interpolation?: Interpolation;
  horizontalFlip?: number;
  verticalFlip?: number;
  /** probability of a random rotation by 90, 180 or 270 degrees (0, 90, 180, 270 uniformly when 1) */
  rotate90?: number;
  colorJitter?: ColorJitterOptions;
  grayscale?: number;
  blur?: GaussianBlurOptions;
  solarize?: { p: number; threshold?: number };
  normalize?: { mean: number[]; std: number[] };
}

const probability = (name: string, p: number | undefined): number => {
  if (p === undefined) return 0;
  if (!(p >= 0 && p <= 1)) throw new Error(`view: ${name} must be a probability in [0, 1], got ${p}`);
  return p;
};

/** Checks a view config before any work, naming the first bad field. */
export function checkViewConfig(view: ViewConfig, where = 'view'): void {
  if (!(Number.isInteger(view.size) && view.size > 0)) throw new Error(`${where}.size must be a positive integer, got ${view.size}`);
  for (const key of ['horizontalFlip', 'verticalFlip', 'rotate90', 'grayscale'] as const) {
    try { probability(key, view[key]); } catch { throw new Error(`${where}.${key} must be a probability in [0, 1], got ${view[key]}`); }
  }
  if (view.centerFraction !== undefined && !(view.centerFraction > 0 && view.centerFraction <= 1)) {
    throw new Error(`${where}.centerFraction must be in (0, 1], got ${view.centerFraction}`);
  }
  const crop = view.crop;
  if (typeof crop === 'object') {
    const s = crop.scale;
    if (s && !(s.length === 2 && s[0] > 0 && s[0] <= s[1] && s[1] <= 1)) throw new Error(`${where}.crop.scale must be [min, max] within (0, 1], got [${s.join(', ')}]`);
    const r = crop.ratio;
    if (r && !(r.length === 2 && r[0] > 0 && r[0] <= r[1])) throw new Error(`${where}.crop.ratio must be [min, max] with 0 < min <= max, got [${r.join(', ')}]`);
  } else if (crop !== undefined && crop !== 'center' && crop !== 'resize') {
    throw new Error(`${where}.crop must be { scale, ratio }, 'center' or 'resize', got ${JSON.stringify(crop)}`);
  }
  if (view.solarize) probability(`${where}.solarize.p`, view.solarize.p);
  if (view.blur) probability(`${where}.blur.p`, view.blur.p);
  if (view.colorJitter) probability(`${where}.colorJitter.p`, view.colorJitter.p);
  if (view.normalize && (view.normalize.mean.length !== 3 || view.normalize.std.length !== 3 || view.normalize.std.some((s) => !(s > 0)))) {
    throw new Error(`${where}.normalize needs 3 means and 3 positive stds`);
  }
}

/**
 * The crop/resize stage: uint8 or float [B, C, H, W] -> float [B, C, size, size] in [0, 1]. Bicubic
 * resampling overshoots past 0 and 1 near edges; the result is clamped, as torchvision's uint8 and PIL
 * paths do (colour jitter's HSV conversion expects [0, 1]: a pixel with max 0 and min < 0 gave NaN).
 */
function geometry(x: Tensor, view: ViewConfig, generator?: Generator): Tensor {
  const out = resample(x, view, generator);
  return view.interpolation === 'bicubic' ? out.clamp(0, 1) : out;
}

function resample(x: Tensor, view: ViewConfig, generator?: Generator): Tensor {
  const crop = view.crop ?? {};
  if (crop === 'resize') return resize(x, [view.size, view.size], view.interpolation);
  if (crop === 'center') {
    const fraction = view.centerFraction ?? 1;
    return centerCrop(resize(x, Math.floor(view.size / fraction), view.interpolation), view.size);
  }
  return randomResizedCrop(x, {
    size: view.size, scale: crop.scale, ratio: crop.ratio, interpolation: view.interpolation, horizontalFlip: view.horizontalFlip,
  }, generator);
}

const isRandomCrop = (view: ViewConfig): boolean => view.crop !== 'center' && view.crop !== 'resize';

export function applyView(images: Tensor, view: ViewConfig, generator?: Generator): Tensor {
  if (images.ndim !== 4 || (images.size(1) !== 1 && images.size(1) !== 3)) {
    throw new Error(`applyView: expected images [B, 1 or 3, H, W], got [${images.shape.join(', ')}]`);
  }
  return tidy(() => {
    const rgb = images.size(1) === 1 ? images.expand(images.size(0), 3, images.size(2), images.size(3)) : images;
    return applyAppearance(geometry(rgb, view, generator), view, generator); // the random crop also flips (fused)
  });
}

/**
 * The stages after the crop (flips, rotations, colour, blur, solarize, normalize): float [B, 3, s, s]
 * in [0, 1] -> float [B, 3, s, s]. Streamed photos are cropped (and flipped) as they are decoded,
 * then go through this.
 */
export function applyAppearance(cropped: Tensor, view: ViewConfig, generator?: Generator): Tensor {
  return tidy(() => {
    let x = cropped;
    if (view.horizontalFlip && !isRandomCrop(view)) x = randomHorizontalFlip(x, view.horizontalFlip, generator);
    if (view.verticalFlip) x = randomVerticalFlip(x, view.verticalFlip, generator);
    if (view.rotate90) x = applyRandomly(x, view.rotate90, (t) => randomRotation90(t, generator), generator);
    if (view.colorJitter) x = colorJitter(x, { ...view.colorJitter, grayscale: view.grayscale }, generator); // grey fused
    else if (view.grayscale) x = randomGrayscale(x, view.grayscale, generator);
    if (view.blur && (view.blur.p ?? 1) > 0) x = gaussianBlur(x, view.blur, generator);
    if (view.solarize && view.solarize.p > 0) x = randomSolarize(x, view.solarize.p, view.solarize.threshold ?? 0.5, generator);
    if (view.normalize) x = normalize(x, view.normalize.mean, view.normalize.std);
    return x.isContiguous() ? x : x.contiguous();
  });
}

/**
 * The box [top, left, height, width] a view takes from a height x width image, for views cut from
 * each image at its own size (streamed photos): the random resized crop's box (torchvision's
 * get_params), the centre square of `centerFraction` of the shorter side ('center', torchvision's
 * Resize(size / fraction) + CenterCrop(size) as one box), or the whole image ('resize').
 */
export function viewBox(view: ViewConfig, height: number, width: number, uniform: () => number): [number, number, number, number] {
  const crop = view.crop ?? {};
  if (crop === 'resize') return [0, 0, height, width];
  if (crop === 'center') {
    const side = Math.max(1, Math.min(height, width, Math.round(Math.min(height, width) * (view.centerFraction ?? 1))));
    return [roundHalfEven((height - side) / 2), roundHalfEven((width - side) / 2), side, side];
  }
  return sampleCropBox(height, width, crop.scale ?? [0.08, 1], crop.ratio ?? [3 / 4, 4 / 3], uniform);
}

/** Whether a view flips horizontally as part of its crop (random crops), with this probability. */
export function cropFlipProbability(view: ViewConfig): number {
  return isRandomCrop(view) ? (view.horizontalFlip ?? 0) : 0;
}
