/**
 * ColorJitter (used by SimCLR, Chen et al., 2020, Sec. 3 and App. A: "colour distortion" is
 * what keeps the contrastive task from being solved by colour histograms): brightness, contrast,
 * saturation and hue changed by random factors, the four in a random order per image, the whole
 * applied with probability p. Formulas as torchvision's tensor ColorJitter: brightness blends with
 * black, contrast with the image's mean grey level, saturation with the grey image, hue rotates H
 * in HSV space. Batched: every image has its own factors and order; the adjustments run fused in
 * the addon (one pass over each image per adjustment, while it is in cache).
 *
 * ```ts
 * const jittered = colorJitter(views, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }, gen);
 * const brighter = adjustBrightness(views, tensor([1.2, 0.8]));   // one factor per image
 * ```
 */
import { type Generator, type Tensor, colorAdjust, tensor, tidy } from '../tensor/index.js';
import { between, uniformStream } from './uniformStream.js';

const BRIGHTNESS = 0;
const CONTRAST = 1;
const SATURATION = 2;
const HUE = 3;

function checkRgb(name: string, x: Tensor): void {
  if (x.ndim !== 4 || x.size(1) !== 3) throw new Error(`${name}: expected float images [B, 3, H, W], got [${x.shape.join(', ')}]`);
}

/** One adjustment with a factor per image (float [B]). */
function adjustOne(name: string, kind: number, x: Tensor, factors: Tensor): Tensor {
  checkRgb(name, x);
  const count = x.size(0);
  if (factors.ndim !== 1 || factors.size(0) !== count) {
    throw new Error(`${name}: expected one factor per image (${count}), got [${factors.shape.join(', ')}]`);
  }
  const values = tidy(() => factors.double().data<Float64Array>());
  const table = new Float64Array(count * 4);
  const order = new Float64Array(count * 4).fill(-1);
  for (let b = 0; b < count; b++) {
    table[b * 4 + kind] = values[b];
    order[b * 4] = kind;
  }
  return tidy(() => colorAdjust(x, tensor(table, { shape: [count, 4] }), tensor(order, { shape: [count, 4], dtype: 'int64' })));
}

/** x * f, clamped. */
export function adjustBrightness(x: Tensor, factors: Tensor): Tensor { return adjustOne('adjustBrightness', BRIGHTNESS, x, factors); }
/** Blend with the image's mean grey level. */
export function adjustContrast(x: Tensor, factors: Tensor): Tensor { return adjustOne('adjustContrast', CONTRAST, x, factors); }
/** Blend with the grey image. */
export function adjustSaturation(x: Tensor, factors: Tensor): Tensor { return adjustOne('adjustSaturation', SATURATION, x, factors); }
/** Rotates hue by factors in [-0.5, 0.5] (fractions of the colour circle). */
export function adjustHue(x: Tensor, factors: Tensor): Tensor { return adjustOne('adjustHue', HUE, x, factors); }

export interface ColorJitterOptions {
  /** factor drawn from [1 - b, 1 + b] (or an explicit [min, max]) */
  brightness?: number | [number, number];
  contrast?: number | [number, number];
  saturation?: number | [number, number];
  /** shift drawn from [-h, h], h <= 0.5 */
  hue?: number | [number, number];
  /** probability that an image is jittered at all (RandomApply), default 1 */
  p?: number;
  /** then RandomGrayscale with this probability (SimCLR's 0.2), fused into the same pass (default 0) */
  grayscale?: number;
}

function factorRange(name: string, v: number | [number, number] | undefined, centre: number, bound: [number, number]): [number, number] | null {
  if (v === undefined) return null;
  const range: [number, number] = typeof v === 'number' ? [centre - v, centre + v] : v;
  if (typeof v === 'number' && v < 0) throw new Error(`colorJitter: ${name} must be non-negative, got ${v}`);
  if (!(range[0] <= range[1] && range[1] <= bound[1] && (typeof v === 'number' || range[0] >= bound[0]))) {
    throw new Error(`colorJitter: ${name} range [${range.join(', ')}] must lie within [${bound.join(', ')}]`);
  }
  if (range[0] === centre && range[1] === centre) return null; // no change: skipped, as torchvision
  return [Math.max(range[0], bound[0]), range[1]];
}

/** Jittered copy of float images [B, 3, H, W] in [0, 1]. */
export function colorJitter(x: Tensor, o: ColorJitterOptions, generator?: Generator): Tensor {
  checkRgb('colorJitter', x);
  const p = o.p ?? 1;
  if (!(p >= 0 && p <= 1)) throw new Error(`colorJitter: p must be in [0, 1], got ${p}`);
  const greyP = o.grayscale ?? 0;
  if (!(greyP >= 0 && greyP <= 1)) throw new Error(`colorJitter: grayscale must be a probability in [0, 1], got ${greyP}`);
  const ranges = [
    factorRange('brightness', o.brightness, 1, [0, Infinity]),
    factorRange('contrast', o.contrast, 1, [0, Infinity]),
    factorRange('saturation', o.saturation, 1, [0, Infinity]),
    factorRange('hue', o.hue, 0, [-0.5, 0.5]),
  ];
  const count = x.size(0);
  const uniform = uniformStream(generator);
  // Per image, as torchvision's get_params: applied?, a random order of the four, a factor for each.
  const factors = new Float64Array(count * 4);
  const orders = new Float64Array(count * 4).fill(-1);
  const grey = new Uint8Array(count);
  for (let b = 0; b < count; b++) {
    const applied = uniform() < p;
    grey[b] = uniform() < greyP ? 1 : 0;
    const order = [0, 1, 2, 3];
    for (let k = 3; k > 0; k--) {
      const j = Math.floor(uniform() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    ranges.forEach((r, k) => { factors[b * 4 + k] = r ? between(uniform, r[0], r[1]) : 0; });
    if (applied) order.filter((k) => ranges[k] !== null).forEach((k, stage) => { orders[b * 4 + stage] = k; });
  }
  return tidy(() => colorAdjust(x, tensor(factors, { shape: [count, 4] }), tensor(orders, { shape: [count, 4], dtype: 'int64' }),
    greyP > 0 ? tensor(grey, { dtype: 'bool' }) : undefined));
}
