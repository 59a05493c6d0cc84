/**
 * Common corruptions for robustness evaluation, after CIFAR-10-C (Hendrycks & Dietterich, 2019,
 * "Benchmarking Neural Network Robustness to Common Corruptions and Perturbations"), made on the
 * fly at 5 severities with its CIFAR parameters: Gaussian noise, shot (Poisson) noise, Gaussian
 * blur, contrast, brightness (V of HSV raised), JPEG, pixelate; plus a fog-like haze (a smooth random
 * veil towards a bright airlight; CIFAR-10-C's fog uses a plasma fractal instead). Sizes in pixels
 * (blur sigma) are CIFAR's at 32 px and scale with the image side.
 *
 * ```ts
 * const foggy = await corrupt(images, 'haze', 3, new Generator(0));   // uint8 [B, 3, H, W] -> float [B, 3, H, W] in [0, 1]
 * ```
 */
import sharp from 'sharp';
import { type Generator, type Tensor, interpolate, poisson, rand, randn, tensor, tidy, where } from '../tensor/index.js';
import { gaussianBlurWith } from './gaussianBlur.js';
import { resize } from './resize.js';

export const CORRUPTIONS = ['gaussian_noise', 'shot_noise', 'gaussian_blur', 'contrast', 'brightness', 'jpeg', 'pixelate', 'haze'] as const;
export type Corruption = typeof CORRUPTIONS[number];

/** Severity 1..5 parameters (CIFAR-10-C's for all but haze). */
const SEVERITY: Record<Corruption, number[]> = {
  gaussian_noise: [0.04, 0.06, 0.08, 0.09, 0.1],   // std of the added noise
  shot_noise: [500, 250, 100, 75, 50],              // photons per unit intensity
  gaussian_blur: [0.4, 0.6, 0.7, 0.8, 1],           // sigma in pixels at 32 px
  contrast: [0.75, 0.5, 0.4, 0.3, 0.15],            // factor towards the image mean
  brightness: [0.05, 0.1, 0.15, 0.2, 0.3],          // added to V in HSV
  jpeg: [80, 65, 58, 50, 40],                       // quality
  pixelate: [0.95, 0.9, 0.85, 0.75, 0.65],          // side kept before upscaling
  haze: [0.2, 0.3, 0.4, 0.5, 0.6],                  // mean opacity of the veil
};

/** The parameter of a corruption at a severity (1..5), for reports. */
export function corruptionParameter(name: Corruption, severity: number): number {
  return SEVERITY[name][severity - 1];
}

async function jpegRoundTrip(x: Tensor, quality: number): Promise<Tensor> {
  const [b, c, h, w] = x.shape;
  const bytes = tidy(() => x.mul(255).round().clamp(0, 255).to('uint8').permute(0, 2, 3, 1).contiguous().toBytes());
  const out = new Uint8Array(b * c * h * w);
  for (let i = 0; i < b; i++) {
    const image = bytes.subarray(i * h * w * c, (i + 1) * h * w * c);
    const encoded = await sharp(image, { raw: { width: w, height: h, channels: c as 3 } }).jpeg({ quality }).toBuffer();
    out.set(await sharp(encoded).raw().toBuffer(), i * h * w * c);
  }
  return tidy(() => tensor(out, { shape: [b, h, w, c], dtype: 'uint8' }).permute(0, 3, 1, 2).float().div(255));
}

export async function corrupt(images: Tensor, name: Corruption, severity: number, generator?: Generator): Promise<Tensor> {
  if (!(CORRUPTIONS as readonly string[]).includes(name)) throw new Error(`corrupt: unknown corruption '${name}' (expected one of ${CORRUPTIONS.join(', ')})`);
  if (!(Number.isInteger(severity) && severity >= 1 && severity <= 5)) throw new Error(`corrupt: severity must be an integer from 1 to 5, got ${severity}`);
  if (images.ndim !== 4 || images.size(1) !== 3) throw new Error(`corrupt: expected RGB images [B, 3, H, W], got [${images.shape.join(', ')}]`);
  const c = SEVERITY[name][severity - 1];
  const x = tidy(() => (images.dtype === 'uint8' ? images.float().div(255) : images.float()));
  if (name === 'jpeg') {
    const out = await jpegRoundTrip(x, c);
    x.dispose();
    return out;
  }
  const [b, , h, w] = x.shape;
  const out = tidy(() => {
    switch (name) {
      case 'gaussian_noise': return x.add(randn(x.shape, { generator }).mul(c));
      case 'shot_noise': return poisson(x.mul(c), { generator }).div(c);
      case 'gaussian_blur': {
        const sigma = (c * Math.min(h, w)) / 32;
        return gaussianBlurWith(x, 2 * Math.ceil(3 * sigma) + 1, tensor(Array(b).fill(sigma)));
      }
      case 'contrast': {
        const mean = x.mean([1, 2, 3], true);
        return x.sub(mean).mul(c).add(mean);
      }
      case 'brightness': {
        // V = max(r, g, b) raised by c (clipped at 1) at the same hue and saturation: rgb scaled by V' / V; black becomes grey c
        const v = x.amax(1, true);
        const raised = v.add(c).clamp(0, 1);
        return where(v.gt(0), x.mul(raised.div(v.clamp(1e-6))), raised.expand(...x.shape));
      }
      case 'pixelate': {
        const small = resize(x, [Math.max(1, Math.round(h * c)), Math.max(1, Math.round(w * c))], 'bilinear', true);
        return interpolate(small, [h, w], 'nearest');
      }
      case 'haze': {
        // a smooth veil: random values on a 4x4 grid, bicubic to the image, stretched to [0, 1] per image
        const grid = interpolate(rand([b, 1, 4, 4], { generator }), [h, w], 'bicubic');
        const low = grid.amin([2, 3], true);
        const veil = grid.sub(low).div(grid.amax([2, 3], true).sub(low).clamp(1e-6)).mul(c).add(c / 2).clamp(0, 1);
        return x.mul(veil.neg().add(1)).add(veil.mul(0.9));
      }
      default: throw new Error(`corrupt: unknown corruption '${String(name)}'`);
    }
  });
  x.dispose();
  const clamped = tidy(() => out.clamp(0, 1));
  out.dispose();
  return clamped;
}

/** All corruptions of one severity side by side, for a picture: [N, 3, H, W] per corruption. */
export async function corruptionGallery(images: Tensor, severity: number, generator?: Generator): Promise<Tensor[]> {
  const out: Tensor[] = [tidy(() => images.float().div(images.dtype === 'uint8' ? 255 : 1))];
  for (const name of CORRUPTIONS) out.push(await corrupt(images, name, severity, generator));
  return out;
}
