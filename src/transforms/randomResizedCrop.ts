/**
 * RandomResizedCrop (Szegedy et al., 2015; the crop of every SSL recipe, SimCLR's most
 * important augmentation): per image, a box covering a `scale` fraction of the area with aspect
 * ratio in `ratio` (log-uniform), resized to `size`. The box is drawn as torchvision's
 * RandomResizedCrop.get_params: up to 10 attempts, then the centre crop clamped to `ratio`.
 * Resizing is libtorch's (antialiased bilinear by default, as torchvision on tensors).
 *
 * ```ts
 * const views = randomResizedCrop(images, { size: 32, scale: [0.08, 1] }, gen);  // uint8 [B,3,H,W] -> float [B,3,32,32] in [0,1]
 * ```
 */
import { type Generator, type Tensor, rand, resizedCrops, tensor, tidy } from '../tensor/index.js';
import { between, uniformStream } from './uniformStream.js';

export type Interpolation = 'bilinear' | 'bicubic' | 'nearest';

export interface RandomResizedCropOptions {
  /** output side, or [height, width] */
  size: number | [number, number];
  /** fraction of the image's area, default [0.08, 1] */
  scale?: [number, number];
  /** aspect ratio (width / height), default [3/4, 4/3] */
  ratio?: [number, number];
  interpolation?: Interpolation;
  antialias?: boolean;
  /** then RandomHorizontalFlip with this probability, fused into the crop (default 0) */
  horizontalFlip?: number;
}

/** Python's round(): halves go to the even neighbour, as in torchvision's box and offset arithmetic. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [top, left, height, width] of one crop of a height x width image, as torchvision's get_params. */
export function sampleCropBox(height: number, width: number, scale: [number, number], ratio: [number, number], uniform: () => number): [number, number, number, number] {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * between(uniform, scale[0], scale[1]);
    const aspect = Math.exp(between(uniform, logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.floor(uniform() * (height - h + 1));
      const left = Math.floor(uniform() * (width - w + 1));
      return [top, left, h, w];
    }
  }
  // Fallback: the whole image, cut to the nearest allowed aspect ratio, centred.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

function checkRange(name: string, r: [number, number], low: number, high: number): void {
  if (!(r.length === 2 && r[0] > low && r[0] <= r[1] && r[1] <= high)) {
    throw new Error(`randomResizedCrop: ${name} must be [min, max] with ${low} < min <= max <= ${high}, got [${r.join(', ')}]`);
  }
}

/** int64 [B, 4] boxes (top, left, height, width), one per image. */
export function sampleCropBoxes(count: number, height: number, width: number, scale: [number, number], ratio: [number, number], generator?: Generator): Tensor {
  const uniform = uniformStream(generator);
  const boxes = new Float64Array(count * 4);
  for (let i = 0; i < count; i++) boxes.set(sampleCropBox(height, width, scale, ratio, uniform), i * 4);
  return tensor(boxes, { shape: [count, 4], dtype: 'int64' });
}

/** Float images [B, C, h, w]: uint8 input is scaled to [0, 1]. */
export function randomResizedCrop(x: Tensor, o: RandomResizedCropOptions, generator?: Generator): Tensor {
  if (x.ndim !== 4) throw new Error(`randomResizedCrop: expected images [B, C, H, W], got [${x.shape.join(', ')}]`);
  const scale = o.scale ?? [0.08, 1];
  const ratio = o.ratio ?? [3 / 4, 4 / 3];
  checkRange('scale', scale, 0, 1);
  checkRange('ratio', ratio, 0, Infinity);
  const flipP = o.horizontalFlip ?? 0;
  if (!(flipP >= 0 && flipP <= 1)) throw new Error(`randomResizedCrop: horizontalFlip must be a probability in [0, 1], got ${flipP}`);
  return tidy(() => {
    const boxes = sampleCropBoxes(x.size(0), x.size(2), x.size(3), scale, ratio, generator);
    const flips = flipP > 0 ? rand([x.size(0)], { generator }).lt(flipP) : undefined;
    const out = resizedCrops(x, boxes, o.size, o.interpolation ?? 'bilinear', o.antialias ?? true, flips);
    return x.dtype === 'uint8' ? out.div(255) : out;
  });
}
