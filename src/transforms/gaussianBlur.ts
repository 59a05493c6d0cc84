/**
 * GaussianBlur (SimCLR, Chen et al., 2020, App. A: sigma in [0.1, 2.0], kernel 10% of the image
 * side; BYOL's asymmetric p = 1.0 / 0.1; DINO's multi-crop): each chosen image is convolved with
 * its own Gaussian, sigma drawn uniformly per image. As torchvision's tensor gaussian_blur: kernel
 * exp(-x^2 / 2 sigma^2) on x = -(k-1)/2 .. (k-1)/2, normalised, reflect padding; applied as two
 * separable passes of one grouped convolution over the whole batch.
 *
 * ```ts
 * const blurred = gaussianBlur(views, { kernelSize: 9, sigma: [0.1, 2], p: 0.5 }, gen);
 * ```
 */
import { type Generator, type Tensor, conv2d, linspace, pad, tensor, tidy } from '../tensor/index.js';
import { between, uniformStream } from './uniformStream.js';

/** Blur of float images [B, C, H, W] with per-image sigmas [B] and an odd kernel size. */
export function gaussianBlurWith(x: Tensor, kernelSize: number, sigmas: Tensor): Tensor {
  if (x.ndim !== 4) throw new Error(`gaussianBlur: expected images [B, C, H, W], got [${x.shape.join(', ')}]`);
  if (!(Number.isInteger(kernelSize) && kernelSize > 0 && kernelSize % 2 === 1)) {
    throw new Error(`gaussianBlur: kernel size must be a positive odd integer, got ${kernelSize}`);
  }
  const [count, channels, height, width] = x.shape;
  const half = (kernelSize - 1) / 2;
  if (half >= height || half >= width) throw new Error(`gaussianBlur: kernel ${kernelSize} is too large for ${height}x${width} images (reflect padding)`);
  return tidy(() => {
    const positions = linspace(-half, half, kernelSize, { dtype: x.dtype }).view(1, kernelSize); // [1, k]
    const s = sigmas.to(x.dtype).view(count, 1);                                                   // [B, 1]
    const pdf = positions.div(s).square().mul(-0.5).exp();                                       // [B, k]
    const kernel = pdf.div(pdf.sum(1, true)).repeatInterleave(channels, 0);                        // [B*C, k]
    const planes = pad(x.reshape(1, count * channels, height, width), [half, half, half, half], 'reflect');
    const groups = count * channels;
    const rows = conv2d(planes, kernel.view(groups, 1, 1, kernelSize), null, { groups });         // along W
    return conv2d(rows, kernel.view(groups, 1, kernelSize, 1), null, { groups }).view(count, channels, height, width);
  });
}

export interface GaussianBlurOptions {
  /** odd kernel size; default: 10% of the image side, made odd (SimCLR) */
  kernelSize?: number;
  sigma?: [number, number];
  p?: number;
}

/** The SimCLR kernel size for a side: 10% of it, rounded down to an odd number, at least 3. */
export function defaultBlurKernel(side: number): number {
  const k = Math.floor(side / 10);
  return Math.max(3, k % 2 === 0 ? k + 1 : k);
}

export function gaussianBlur(x: Tensor, o: GaussianBlurOptions = {}, generator?: Generator): Tensor {
  const sigma = o.sigma ?? [0.1, 2];
  const p = o.p ?? 1;
  if (!(sigma[0] > 0 && sigma[0] <= sigma[1])) throw new Error(`gaussianBlur: sigma must be [min, max] with 0 < min <= max, got [${sigma.join(', ')}]`);
  if (!(p >= 0 && p <= 1)) throw new Error(`gaussianBlur: p must be in [0, 1], got ${p}`);
  const kernelSize = o.kernelSize ?? defaultBlurKernel(Math.min(x.size(2), x.size(3)));
  const uniform = uniformStream(generator);
  const members: number[] = [];
  const sigmas: number[] = [];
  for (let b = 0; b < x.size(0); b++) {
    const chosen = uniform() < p;
    const s = between(uniform, sigma[0], sigma[1]);
    if (chosen) {
      members.push(b);
      sigmas.push(s);
    }
  }
  return tidy(() => {
    if (members.length === 0) return x.clone();
    if (members.length === x.size(0)) return gaussianBlurWith(x, kernelSize, tensor(sigmas));
    const index = tensor(members, { dtype: 'int64' });
    return x.indexPut([index], gaussianBlurWith(x.indexSelect(0, index), kernelSize, tensor(sigmas)));
  });
}
