/**
 * Creating tensors: from JavaScript values, constants, ranges and random draws.
 * Random draws use the global generator ({@link manualSeed}) unless given a {@link Generator}.
 *
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);              // float32[2, 2]
 * const idx = tensor([0, 2], { dtype: 'int64' });  // int64[2]
 * const noise = randn([128, 3, 32, 32], { generator: new Generator(0) });
 * ```
 */
import { FLOAT_DTYPES, type DType, type Device, type TypedArray } from './dtype.js';
import { native } from './native.js';
import { Generator, Tensor, type NestedArray, type Scalar } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
}
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

type Shape = number | readonly number[];
const dims = (shape: Shape): number[] => (typeof shape === 'number' ? [shape] : [...shape]);

/** Infers [shape, flat values] of nested arrays, refusing ragged ones. */
function flattenNested(data: NestedArray): [number[], number[]] {
  const shape: number[] = [];
  for (let level: NestedArray = data; Array.isArray(level); level = level[0]) {
    shape.push(level.length);
    if (level.length === 0) break;
  }
  const flat: number[] = [];
  const walk = (value: NestedArray, depth: number): void => {
    if (depth === shape.length) {
      if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`tensor(): expected a number at depth ${depth}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
      flat.push(Number(value));
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      throw new TypeError(`tensor(): ragged nested array: expected ${shape[depth]} elements at depth ${depth}`);
    }
    for (const v of value) walk(v, depth + 1);
  };
  walk(data, 0);
  return [shape, flat];
}

/**
 * A tensor from nested arrays of numbers, or from a typed array with a shape
 * (one copy into libtorch memory). The dtype defaults to float32 for plain numbers
 * and to the typed array's own type otherwise.
 */
export function tensor(data: NestedArray | TypedArray, options: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const shape = options.shape ?? [data.length];
    return new Tensor(native.fromTypedArray(data, shape, options.dtype, options.device));
  }
  const [inferred, flat] = flattenNested(data);
  const shape = options.shape ?? inferred;
  const dtype = options.dtype ?? 'float32';
  // float64 holds every integer below 2^53 exactly, so int64 ids survive the trip.
  const source = FLOAT_DTYPES.has(dtype) && dtype !== 'float64' ? new Float32Array(flat) : new Float64Array(flat);
  return new Tensor(native.fromTypedArray(source, shape, dtype, options.device));
}

/** A tensor of `dtype` over raw native-order bytes (safetensors, checkpoints). */
export function fromBytes(bytes: Uint8Array, shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(native.fromBytes(bytes, shape, dtype));
}

export function scalar(value: Scalar, options: CreateOptions = {}): Tensor {
  return new Tensor(native.scalarTensor(value, options.dtype, options.device));
}
export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return new Tensor(native.zeros(dims(shape), options.dtype, options.device));
}
export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return new Tensor(native.ones(dims(shape), options.dtype, options.device));
}
/** Uninitialised memory (fast; fill it before reading). */
export function empty(shape: Shape, options: CreateOptions = {}): Tensor {
  return new Tensor(native.empty(dims(shape), options.dtype, options.device));
}
export function full(shape: Shape, value: Scalar, options: CreateOptions = {}): Tensor {
  return new Tensor(native.full(dims(shape), value, options.dtype, options.device));
}
export function zerosLike(t: Tensor): Tensor { return new Tensor(native.zerosLike(t.handle)); }
export function onesLike(t: Tensor): Tensor { return new Tensor(native.onesLike(t.handle)); }
export function fullLike(t: Tensor, value: Scalar): Tensor { return new Tensor(native.fullLike(t.handle, value)); }

/** start, start+step, ... below end. int64 when all three are integers, else float32. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  return new Tensor(native.arange(start, end, step, options.dtype, options.device));
}
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  return new Tensor(native.linspace(start, end, steps, options.dtype, options.device));
}
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  return new Tensor(native.eye(n, m, options.dtype, options.device));
}

/** Uniform on [0, 1). */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  return new Tensor(native.rand(dims(shape), options.dtype, options.device, options.generator?.handle));
}
/** Standard normal. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  return new Tensor(native.randn(dims(shape), options.dtype, options.device, options.generator?.handle));
}
/** Poisson samples with the given rates (float, elementwise; torch.poisson). */
export function poisson(rates: Tensor, options: { generator?: Generator } = {}): Tensor {
  return new Tensor(native.poisson(rates.handle, options.generator?.handle));
}
/** Integers in [low, high), int64 by default. */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  return new Tensor(native.randint(low, high, dims(shape), options.dtype, options.device, options.generator?.handle));
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  return new Tensor(native.randperm(n, options.dtype, options.device, options.generator?.handle));
}
/** 0/1 draws: with probability `p` everywhere, or with the probabilities held in `t`. */
export function bernoulli(t: Tensor, p?: number, generator?: Generator): Tensor {
  return new Tensor(native.bernoulli(t.handle, p, generator?.handle));
}
/** `numSamples` class indices per row of the (unnormalised) probabilities `probs`. */
export function multinomial(probs: Tensor, numSamples: number, replacement = false, generator?: Generator): Tensor {
  return new Tensor(native.multinomial(probs.handle, numSamples, replacement, generator?.handle));
}
