/**
 * Deterministic geometry for evaluation, as torchvision's Resize and CenterCrop:
 * - resize(x, 256): the shorter side to 256, the aspect ratio kept (or [h, w] exactly);
 * - centerCrop(x, 224): the central 224 x 224, top = round((H - 224) / 2).
 * uint8 input becomes float in [0, 1].
 *
 * ```ts
 * const input = centerCrop(resize(images, 36), 32);   // CIFAR-style evaluation view
 * ```
 */
import { type Tensor, resizedCrops, tensor, tidy } from '../tensor/index.js';
import { type Interpolation, roundHalfEven } from './randomResizedCrop.js';

function checkImages(name: string, x: Tensor): void {
  if (x.ndim !== 4) throw new Error(`${name}: expected images [B, C, H, W], got [${x.shape.join(', ')}]`);
}

function toUnit(x: Tensor): Tensor {
  return x.dtype === 'uint8' ? x.float().div(255) : x;
}

export function resize(x: Tensor, size: number | [number, number], interpolation: Interpolation = 'bilinear', antialias = true): Tensor {
  checkImages('resize', x);
  const [h, w] = [x.size(2), x.size(3)];
  let target: [number, number];
  if (Array.isArray(size)) target = size;
  else if (h <= w) target = [size, Math.floor((size * w) / h)];
  else target = [Math.floor((size * h) / w), size];
  if (!(target[0] > 0 && target[1] > 0)) throw new Error(`resize: size must be positive, got ${String(size)}`);
  return tidy(() => {
    const whole = tensor([0, 0, h, w], { shape: [1, 4], dtype: 'int64' }).expand(x.size(0), 4).contiguous(); // [B, 4]
    const out = resizedCrops(x, whole, target, interpolation, antialias);
    return x.dtype === 'uint8' ? out.div(255) : out;
  });
}

export function centerCrop(x: Tensor, size: number | [number, number]): Tensor {
  checkImages('centerCrop', x);
  const [ch, cw] = Array.isArray(size) ? size : [size, size];
  const [h, w] = [x.size(2), x.size(3)];
  if (ch > h || cw > w) throw new Error(`centerCrop: ${ch}x${cw} is larger than the ${h}x${w} images (resize first)`);
  const top = roundHalfEven((h - ch) / 2);
  const left = roundHalfEven((w - cw) / 2);
  return tidy(() => toUnit(x.narrow(2, top, ch).narrow(3, left, cw).contiguous()));
}
