/**
 * ColorJitter (used by SimCLR, Chen et al., 2020, Sec. 3 and App. A: "colour distortion" is
 * what keeps the contrastive task from being solved by colour histograms): brightness, contrast,
 * saturation and hue changed by random factors, the four in a random order per image, the whole
 * applied with probability p. Formulas and order of draws as torchvision's tensor ColorJitter:
 * brightness blends with black, contrast with the mean grey level, saturation with the grey
 * image, hue rotates H in HSV space. Batched: every image has its own factors and order.
 *
 * ```ts
 * const jittered = colorJitter(views, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }, gen);
 * ```
 */
import { type Generator, type Tensor, cat, stack, tensor, tidy } from '../tensor/index.js';
import { grayscale } from './colorOps.js';
import { between, uniformStream } from './uniformStream.js';

/** Per-image factors [B] as a [B, 1, 1, 1] tensor of x's dtype. */
function perImage(x: Tensor, factors: Tensor): Tensor {
  if (factors.ndim !== 1 || factors.size(0) !== x.size(0)) {
    throw new Error(`colour adjustment: expected one factor per image (${x.size(0)}), got [${factors.shape.join(', ')}]`);
  }
  return factors.to(x.dtype).view(x.size(0), 1, 1, 1);
}

/** (f * x + (1 - f) * other) clamped to [0, 1]: torchvision's _blend. */
function blend(x: Tensor, other: Tensor, f: Tensor): Tensor {
  return x.mul(f).add(other.mul(f.rsub(1))).clamp(0, 1);
}

function checkRgb(name: string, x: Tensor): void {
  if (x.ndim !== 4 || x.size(1) !== 3) throw new Error(`${name}: expected float images [B, 3, H, W], got [${x.shape.join(', ')}]`);
}

export function adjustBrightness(x: Tensor, factors: Tensor): Tensor {
  checkRgb('adjustBrightness', x);
  return tidy(() => x.mul(perImage(x, factors)).clamp(0, 1));
}

export function adjustContrast(x: Tensor, factors: Tensor): Tensor {
  checkRgb('adjustContrast', x);
  return tidy(() => {
    const mean = grayscale(x).select(1, 0).mean([1, 2], true).unsqueeze(1); // [B, 1, 1, 1]
    return blend(x, mean, perImage(x, factors));
  });
}

export function adjustSaturation(x: Tensor, factors: Tensor): Tensor {
  checkRgb('adjustSaturation', x);
  return tidy(() => blend(x, grayscale(x), perImage(x, factors)));
}

/** RGB [B, 3, H, W] in [0, 1] -> HSV with H in [0, 1) (torchvision's _rgb2hsv). */
export function rgbToHsv(x: Tensor): Tensor {
  return tidy(() => {
    const [r, g, b] = x.unbind(1); // [B, H, W] each
    const maxc = x.amax(1);
    const minc = x.amin(1);
    const flat = maxc.eq(minc);
    const range = maxc.sub(minc);
    const s = range.div(maxc.maskedFill(flat, 1));
    const divisor = range.maskedFill(flat, 1);
    const rc = maxc.sub(r).div(divisor);
    const gc = maxc.sub(g).div(divisor);
    const bc = maxc.sub(b).div(divisor);
    const isR = maxc.eq(r);
    const isG = maxc.eq(g).logicalAnd(isR.logicalNot());
    const isB = isR.logicalOr(maxc.eq(g)).logicalNot();
    const h = bc.sub(gc).mul(isR)
      .add(rc.add(2).sub(bc).mul(isG))
      .add(gc.add(4).sub(rc).mul(isB));
    return stack([h.div(6).add(1).remainder(1), s, maxc], 1);
  });
}

/** HSV -> RGB (torchvision's _hsv2rgb): the sextant i = floor(6h) picks each channel from (v, p, q, t). */
export function hsvToRgb(x: Tensor): Tensor {
  return tidy(() => {
    const [h, s, v] = x.unbind(1); // [B, H, W] each
    const i = h.mul(6).floor();
    const f = h.mul(6).sub(i);
    const sextant = i.long().remainder(6).unsqueeze(1); // [B, 1, H, W]
    const p = v.mul(s.rsub(1)).clamp(0, 1);
    const q = v.mul(s.mul(f).rsub(1)).clamp(0, 1);
    const t = v.mul(s.mul(f.rsub(1)).rsub(1)).clamp(0, 1);
    const pick = (choices: Tensor[]) => stack(choices, 1).gather(1, sextant); // [B, 1, H, W]
    return cat([pick([v, q, p, p, t, v]), pick([t, v, v, q, p, p]), pick([p, p, t, v, v, q])], 1);
  });
}

/** Rotates hue by factors in [-0.5, 0.5] (fractions of the colour circle). */
export function adjustHue(x: Tensor, factors: Tensor): Tensor {
  checkRgb('adjustHue', x);
  return tidy(() => {
    const hsv = rgbToHsv(x);
    const shift = perImage(x, factors).squeeze(1); // [B, 1, 1]
    const h = hsv.select(1, 0).add(shift).remainder(1);
    return hsvToRgb(stack([h, hsv.select(1, 1), hsv.select(1, 2)], 1));
  });
}

export interface ColorJitterOptions {
  /** factor drawn from [1 - b, 1 + b] (or an explicit [min, max]) */
  brightness?: number | [number, number];
  contrast?: number | [number, number];
  saturation?: number | [number, number];
  /** shift drawn from [-h, h], h <= 0.5 */
  hue?: number | [number, number];
  /** probability that an image is jittered at all (RandomApply), default 1 */
  p?: number;
}

function factorRange(name: string, v: number | [number, number] | undefined, centre: number, bound: [number, number]): [number, number] | null {
  if (v === undefined) return null;
  const range: [number, number] = typeof v === 'number' ? [centre - v, centre + v] : v;
  if (typeof v === 'number' && v < 0) throw new Error(`colorJitter: ${name} must be non-negative, got ${v}`);
  if (!(range[0] <= range[1] && range[0] >= bound[0] && range[1] <= bound[1])) {
    throw new Error(`colorJitter: ${name} range [${range.join(', ')}] must lie within [${bound.join(', ')}]`);
  }
  if (range[0] === centre && range[1] === centre) return null; // no change: skipped, as torchvision
  return [Math.max(range[0], bound[0]), range[1]];
}

const ADJUST = [adjustBrightness, adjustContrast, adjustSaturation, adjustHue];

/** Jittered copy of float images [B, 3, H, W] in [0, 1]. */
export function colorJitter(x: Tensor, o: ColorJitterOptions, generator?: Generator): Tensor {
  checkRgb('colorJitter', x);
  const p = o.p ?? 1;
  if (!(p >= 0 && p <= 1)) throw new Error(`colorJitter: p must be in [0, 1], got ${p}`);
  const ranges = [
    factorRange('brightness', o.brightness, 1, [0, Infinity]),
    factorRange('contrast', o.contrast, 1, [0, Infinity]),
    factorRange('saturation', o.saturation, 1, [0, Infinity]),
    factorRange('hue', o.hue, 0, [-0.5, 0.5]),
  ];
  const count = x.size(0);
  const uniform = uniformStream(generator);
  // Per image: applied?, an order of the four adjustments, a factor for each (torchvision's get_params).
  const applied: boolean[] = [];
  const orders: number[][] = [];
  const factors = ranges.map(() => new Float64Array(count));
  for (let b = 0; b < count; b++) {
    applied.push(uniform() < p);
    const order = [0, 1, 2, 3];
    for (let k = 3; k > 0; k--) {
      const j = Math.floor(uniform() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    orders.push(order);
    ranges.forEach((r, k) => { factors[k][b] = r ? between(uniform, r[0], r[1]) : k === 3 ? 0 : 1; });
  }
  return tidy(() => {
    let out = x;
    // Stage s applies, to each image, the s-th adjustment of its own order: grouped by adjustment.
    for (let stage = 0; stage < 4; stage++) {
      for (let k = 0; k < 4; k++) {
        if (ranges[k] === null) continue;
        const members = [];
        for (let b = 0; b < count; b++) if (applied[b] && orders[b][stage] === k) members.push(b);
        if (members.length === 0) continue;
        if (members.length === count) {
          out = ADJUST[k](out, tensor(factors[k]));
          continue;
        }
        const index = tensor(members, { dtype: 'int64' });
        const chosen = ADJUST[k](out.indexSelect(0, index), tensor(members.map((b) => factors[k][b])));
        out = out.indexPut([index], chosen);
      }
    }
    return out === x ? x.clone() : out;
  });
}
