/**
 * The typed Tensor API over libtorch: every method is one call into the addon,
 * which runs libtorch's own kernel and records autograd history.
 *
 * ```ts
 * const x = Tensor.randn([8, 3]).requiresGrad_();
 * const y = x.matmul(w).relu().sum();     // [8,3]·[3,4] -> [8,4] -> scalar
 * y.backward();                           // x.grad: [8, 3]
 * ```
 *
 * Tensors are freed by {@link tidy} scopes or `dispose()`; see scope.ts.
 */
import type { DType, Device, MemoryFormat, TypedArray } from './dtype.js';
import { native, type NativeGenerator, type NativeHandle } from './native.js';
import type { NativeOps } from './nativeOps.generated.js';
import { track, type Disposable } from './scope.js';

/** A seeded random generator, for reproducible random ops independent of the global seed. */
export class Generator {
  /** @internal */
  readonly handle: NativeGenerator;
  constructor(readonly seed: number) {
    this.handle = native.newGenerator(seed);
  }
}

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
export type Reduction = 'mean' | 'sum' | 'none';
/** Nested arrays of numbers, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];

/** Frees the native tensors of unowned Tensors the garbage collector has collected. */
const collected = new FinalizationRegistry<NativeHandle>((handle) => native.dispose(handle));

function h(x: TensorOrScalar): NativeHandle | Scalar {
  return x instanceof Tensor ? x.handle : x;
}

export class Tensor implements Disposable {
  /** @internal */
  handle: NativeHandle;
  /** @internal */
  scope?: Set<Disposable> = undefined;
  #shape?: readonly number[];
  #dtype?: DType;

  /** @internal wraps a handle fresh from the addon and registers it with the current scope */
  constructor(handle: NativeHandle) {
    this.handle = handle;
    track(this);
  }

  // ---------------------------------------------------------------- metadata
  get shape(): readonly number[] {
    return (this.#shape ??= Object.freeze(native.shape(this.handle) as number[]));
  }
  get dtype(): DType {
    return (this.#dtype ??= native.dtype(this.handle) as DType);
  }
  get device(): string {
    return native.device(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  /** Size of dimension `dim` (negative counts from the end). */
  size(dim: number): number {
    const d = dim < 0 ? dim + this.ndim : dim;
    if (d < 0 || d >= this.ndim) throw new RangeError(`size(${dim}): tensor has ${this.ndim} dimensions`);
    return this.shape[d];
  }
  get isDisposed(): boolean {
    return native.isDisposed(this.handle);
  }
  /** Elements to step in memory per index of each dimension. */
  get strides(): number[] {
    return native.strides(this.handle);
  }
  /** Whether the elements lie densely in `memoryFormat`'s order (default: row-major). */
  isContiguous(memoryFormat: MemoryFormat = 'contiguous'): boolean {
    return native.isContiguous(this.handle, memoryFormat);
  }
  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(${this.dtype}[${this.shape.join(', ')}]${this.device === 'cpu' ? '' : ' @' + this.device})`;
  }

  /** @internal no scope owns this tensor: let the garbage collector free it if it is dropped */
  unowned(): void {
    // A late callback after dispose() is harmless: the handle's generation no longer matches.
    collected.register(this, this.handle);
  }

  /** Frees the native tensor now. Idempotent; any later use throws. */
  dispose(): void {
    this.scope?.delete(this);
    this.scope = undefined;
    native.dispose(this.handle);
  }

  // ---------------------------------------------------------------- reading values
  /** The single value of a one-element tensor. */
  item(): number {
    return native.item(this.handle);
  }
  /** A copy of the values, row-major (float16/bfloat16 read as Float32Array, bool as Uint8Array). */
  data<T extends TypedArray = TypedArray>(): T {
    return native.toTypedArray(this.handle) as T;
  }
  /** The values as nested arrays of numbers (int64 converted to number). */
  toArray(): NestedArray {
    const flat = Array.from(this.data() as ArrayLike<number | bigint>, Number);
    const shape = this.shape;
    if (shape.length === 0) return flat[0];
    const build = (dim: number, offset: number): NestedArray[] => {
      const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[dim] }, (_, i) =>
        dim === shape.length - 1 ? flat[offset + i] : build(dim + 1, offset + i * stride),
      );
    };
    return build(0, 0);
  }
  /** Raw bytes in native byte order (for safetensors and checkpoints). */
  toBytes(): Buffer {
    return native.toBytes(this.handle);
  }
  /** Writes the raw bytes into `target` (exactly as many bytes; may live on a SharedArrayBuffer). */
  copyTo(target: TypedArray): void {
    native.copyToTypedArray(this.handle, target);
  }

  // ---------------------------------------------------------------- conversion
  to(dtypeOrDevice: DType | Device, device?: Device): Tensor {
    if (dtypeOrDevice === 'cpu' || dtypeOrDevice.startsWith('cuda')) return this.op('to', undefined, dtypeOrDevice);
    return this.op('to', dtypeOrDevice as DType, device);
  }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }
  int(): Tensor { return this.to('int32'); }
  bool(): Tensor { return this.to('bool'); }
  clone(): Tensor { return this.op('clone'); }
  /** This tensor laid out densely in `memoryFormat` (itself when it already is): torch's `contiguous(memory_format=...)`. */
  contiguous(memoryFormat: MemoryFormat = 'contiguous'): Tensor { return this.op('contiguous', memoryFormat); }
  /**
   * Makes this tensor hold `source`'s data (storage, strides, dtype) in place, outside autograd, as
   * PyTorch's `param.data = source`: a parameter changes memory format while its holders keep it.
   */
  setData_(source: Tensor): this {
    native.setData(this.handle, source.handle);
    return this;
  }
  /** A tensor sharing this one's data, cut from the autograd graph. */
  detach(): Tensor { return this.op('detach'); }

  // ---------------------------------------------------------------- elementwise
  add(other: TensorOrScalar, alpha?: number): Tensor { return this.op('add', h(other), alpha); }
  sub(other: TensorOrScalar, alpha?: number): Tensor { return this.op('sub', h(other), alpha); }
  /** other - this */
  rsub(other: number): Tensor { return this.op('rsub', other); }
  mul(other: TensorOrScalar): Tensor { return this.op('mul', h(other)); }
  div(other: TensorOrScalar): Tensor { return this.op('div', h(other)); }
  floorDivide(other: TensorOrScalar): Tensor { return this.op('floorDivide', h(other)); }
  remainder(other: TensorOrScalar): Tensor { return this.op('remainder', h(other)); }
  pow(exponent: TensorOrScalar): Tensor { return this.op('pow', h(exponent)); }
  /** base ** this */
  rpow(base: number): Tensor { return this.op('rpow', base); }
  maximum(other: TensorOrScalar): Tensor { return this.op('maximum', h(other)); }
  minimum(other: TensorOrScalar): Tensor { return this.op('minimum', h(other)); }
  neg(): Tensor { return this.op('neg'); }
  abs(): Tensor { return this.op('abs'); }
  exp(): Tensor { return this.op('exp'); }
  log(): Tensor { return this.op('log'); }
  log1p(): Tensor { return this.op('log1p'); }
  expm1(): Tensor { return this.op('expm1'); }
  log2(): Tensor { return this.op('log2'); }
  sqrt(): Tensor { return this.op('sqrt'); }
  rsqrt(): Tensor { return this.op('rsqrt'); }
  square(): Tensor { return this.op('square'); }
  reciprocal(): Tensor { return this.op('reciprocal'); }
  sin(): Tensor { return this.op('sin'); }
  cos(): Tensor { return this.op('cos'); }
  tanh(): Tensor { return this.op('tanh'); }
  sigmoid(): Tensor { return this.op('sigmoid'); }
  logSigmoid(): Tensor { return this.op('logSigmoid'); }
  erf(): Tensor { return this.op('erf'); }
  erfinv(): Tensor { return this.op('erfinv'); }
  sign(): Tensor { return this.op('sign'); }
  floor(): Tensor { return this.op('floor'); }
  ceil(): Tensor { return this.op('ceil'); }
  round(): Tensor { return this.op('round'); }
  trunc(): Tensor { return this.op('trunc'); }
  clamp(min?: TensorOrScalar | null, max?: TensorOrScalar | null): Tensor {
    return this.op('clamp', min == null ? undefined : h(min), max == null ? undefined : h(max));
  }
  /** Linear interpolation this + weight * (end - this). */
  lerp(end: Tensor, weight: TensorOrScalar): Tensor { return this.op('lerp', end.handle, h(weight)); }
  /** this + value * t1 * t2 */
  addcmul(t1: Tensor, t2: Tensor, value = 1): Tensor { return this.op('addcmul', t1.handle, t2.handle, value); }
  /** this + value * t1 / t2 */
  addcdiv(t1: Tensor, t2: Tensor, value = 1): Tensor { return this.op('addcdiv', t1.handle, t2.handle, value); }
  maskedFill(mask: Tensor, value: TensorOrScalar): Tensor { return this.op('maskedFill', mask.handle, h(value)); }
  nanToNum(nan?: number, posinf?: number, neginf?: number): Tensor { return this.op('nanToNum', nan, posinf, neginf); }

  // comparisons and logic (bool results)
  eq(other: TensorOrScalar): Tensor { return this.op('eq', h(other)); }
  ne(other: TensorOrScalar): Tensor { return this.op('ne', h(other)); }
  lt(other: TensorOrScalar): Tensor { return this.op('lt', h(other)); }
  le(other: TensorOrScalar): Tensor { return this.op('le', h(other)); }
  gt(other: TensorOrScalar): Tensor { return this.op('gt', h(other)); }
  ge(other: TensorOrScalar): Tensor { return this.op('ge', h(other)); }
  logicalAnd(other: Tensor): Tensor { return this.op('logicalAnd', other.handle); }
  logicalOr(other: Tensor): Tensor { return this.op('logicalOr', other.handle); }
  logicalNot(): Tensor { return this.op('logicalNot'); }
  isnan(): Tensor { return this.op('isnan'); }
  isfinite(): Tensor { return this.op('isfinite'); }
  /** Same shape and values within rtol/atol (no autograd). */
  allclose(other: Tensor, rtol = 1e-5, atol = 1e-8, equalNan = false): boolean {
    return native.allclose(this.handle, other.handle, rtol, atol, equalNan);
  }
  equal(other: Tensor): boolean { return native.equal(this.handle, other.handle); }

  // activations
  relu(): Tensor { return this.op('relu'); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return this.op('gelu', approximate); }
  silu(): Tensor { return this.op('silu'); }
  leakyRelu(slope = 0.01): Tensor { return this.op('leakyRelu', slope); }
  elu(alpha = 1): Tensor { return this.op('elu', alpha); }
  softplus(beta = 1, threshold = 20): Tensor { return this.op('softplus', beta, threshold); }
  hardtanh(min = -1, max = 1): Tensor { return this.op('hardtanh', min, max); }
  softmax(dim: number, dtype?: DType): Tensor { return this.op('softmax', dim, dtype); }
  logSoftmax(dim: number, dtype?: DType): Tensor { return this.op('logSoftmax', dim, dtype); }

  // ---------------------------------------------------------------- reductions
  /** Sum over `dims` (all when omitted). */
  sum(dims?: number | number[], keepdim = false, dtype?: DType): Tensor { return this.op('sum', dims, keepdim, dtype); }
  mean(dims?: number | number[], keepdim = false): Tensor { return this.op('mean', dims, keepdim); }
  prod(dim?: number, keepdim = false): Tensor { return this.op('prod', dim, keepdim); }
  /** Variance, unbiased (n-1) by default as torch.var. */
  var(dims?: number | number[], unbiased = true, keepdim = false): Tensor { return this.op('var', dims, unbiased, keepdim); }
  std(dims?: number | number[], unbiased = true, keepdim = false): Tensor { return this.op('std', dims, unbiased, keepdim); }
  /** Largest value over everything. */
  max(): Tensor { return this.op('max'); }
  min(): Tensor { return this.op('min'); }
  /** [values, indices] of the largest entries along `dim`. */
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] { return this.ops('maxDim', dim, keepdim) as [Tensor, Tensor]; }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] { return this.ops('minDim', dim, keepdim) as [Tensor, Tensor]; }
  amax(dims: number | number[], keepdim = false): Tensor { return this.op('amax', dims, keepdim); }
  amin(dims: number | number[], keepdim = false): Tensor { return this.op('amin', dims, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return this.op('argmax', dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return this.op('argmin', dim, keepdim); }
  logsumexp(dims: number | number[], keepdim = false): Tensor { return this.op('logsumexp', dims, keepdim); }
  /** Vector p-norm over `dims` (all when omitted); p may be Infinity. */
  norm(p = 2, dims?: number | number[], keepdim = false): Tensor { return this.op('norm', p, dims, keepdim); }
  cumsum(dim: number): Tensor { return this.op('cumsum', dim); }
  all(dim?: number, keepdim = false): Tensor { return this.op('all', dim, keepdim); }
  any(dim?: number, keepdim = false): Tensor { return this.op('any', dim, keepdim); }

  // ---------------------------------------------------------------- products
  matmul(other: Tensor): Tensor { return this.op('matmul', other.handle); }
  mm(other: Tensor): Tensor { return this.op('mm', other.handle); }
  bmm(other: Tensor): Tensor { return this.op('bmm', other.handle); }
  outer(other: Tensor): Tensor { return this.op('outer', other.handle); }
  /** Transpose of a 2-D tensor. */
  get T(): Tensor { return this.transpose(0, 1); }

  // ---------------------------------------------------------------- shape
  view(...shape: number[]): Tensor { return this.op('view', shape); }
  reshape(...shape: number[]): Tensor { return this.op('reshape', shape); }
  permute(...dims: number[]): Tensor { return this.op('permute', dims); }
  transpose(dim0: number, dim1: number): Tensor { return this.op('transpose', dim0, dim1); }
  expand(...shape: number[]): Tensor { return this.op('expand', shape); }
  expandAs(other: Tensor): Tensor { return this.op('expandAs', other.handle); }
  repeat(...times: number[]): Tensor { return this.op('repeat', times); }
  repeatInterleave(repeats: number, dim?: number): Tensor { return this.op('repeatInterleave', repeats, dim); }
  flatten(startDim = 0, endDim = -1): Tensor { return this.op('flatten', startDim, endDim); }
  unflatten(dim: number, sizes: number[]): Tensor { return this.op('unflatten', dim, sizes); }
  squeeze(dim?: number): Tensor { return this.op('squeeze', dim); }
  unsqueeze(dim: number): Tensor { return this.op('unsqueeze', dim); }
  narrow(dim: number, start: number, length: number): Tensor { return this.op('narrow', dim, start, length); }
  /** Elements start..end (exclusive) with step along `dim`; negative bounds count from the end. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return this.op('slice', dim, start, end, step); }
  /** The sub-tensor at `index` of `dim` (that dimension removed). */
  select(dim: number, index: number): Tensor { return this.op('select', dim, index); }
  flip(dims: number | number[]): Tensor { return this.op('flip', dims); }
  roll(shifts: number | number[], dims: number | number[]): Tensor { return this.op('roll', shifts, dims); }
  tril(diagonal = 0): Tensor { return this.op('tril', diagonal); }
  triu(diagonal = 0): Tensor { return this.op('triu', diagonal); }
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor { return this.op('diagonal', offset, dim1, dim2); }
  /** split(size) into chunks of `size`, or split([a, b, ...]) into those sizes, along `dim`. */
  split(sizes: number | number[], dim = 0): Tensor[] { return this.ops('split', sizes, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return this.ops('chunk', chunks, dim); }
  unbind(dim = 0): Tensor[] { return this.ops('unbind', dim); }
  /** Sliding windows of `size` with `step` along `dim` (torch Tensor.unfold). */
  unfoldDim(dim: number, size: number, step: number): Tensor { return this.op('unfoldDim', dim, size, step); }

  // ---------------------------------------------------------------- indexing
  indexSelect(dim: number, index: Tensor): Tensor { return this.op('indexSelect', dim, index.handle); }
  gather(dim: number, index: Tensor): Tensor { return this.op('gather', dim, index.handle); }
  scatter(dim: number, index: Tensor, src: TensorOrScalar): Tensor { return this.op('scatter', dim, index.handle, h(src)); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return this.op('scatterAdd', dim, index.handle, src.handle); }
  scatterReduce(dim: number, index: Tensor, src: Tensor, reduce: 'sum' | 'prod' | 'mean' | 'amax' | 'amin', includeSelf = true): Tensor {
    return this.op('scatterReduce', dim, index.handle, src.handle, reduce, includeSelf);
  }
  indexAdd(dim: number, index: Tensor, source: Tensor): Tensor { return this.op('indexAdd', dim, index.handle, source.handle); }
  takeAlongDim(indices: Tensor, dim?: number): Tensor { return this.op('takeAlongDim', indices.handle, dim); }
  maskedSelect(mask: Tensor): Tensor { return this.op('maskedSelect', mask.handle); }
  nonzero(): Tensor { return this.op('nonzero'); }
  /** Advanced indexing this[i0, i1, ...] with index tensors. */
  index(indices: Tensor[]): Tensor { return this.op('index', indices.map((t) => t.handle)); }
  /** Out-of-place this[i0, i1, ...] = values (or += with accumulate). */
  indexPut(indices: Tensor[], values: Tensor, accumulate = false): Tensor {
    return this.op('indexPut', indices.map((t) => t.handle), values.handle, accumulate);
  }
  /** [values, indices] sorted along `dim`. */
  sort(dim = -1, descending = false, stable = false): [Tensor, Tensor] { return this.ops('sort', dim, descending, stable) as [Tensor, Tensor]; }
  argsort(dim = -1, descending = false, stable = false): Tensor { return this.op('argsort', dim, descending, stable); }
  /** [values, indices] of the k largest (or smallest) along `dim`. */
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] { return this.ops('topk', k, dim, largest, sorted) as [Tensor, Tensor]; }
  oneHot(numClasses = -1): Tensor { return this.op('oneHot', numClasses); }

  // ---------------------------------------------------------------- autograd
  get requiresGrad(): boolean { return native.requiresGrad(this.handle); }
  set requiresGrad(value: boolean) { native.setRequiresGrad(this.handle, value); }
  /** Marks this tensor as a leaf that accumulates gradients; returns this. */
  requiresGrad_(value = true): this { native.setRequiresGrad(this.handle, value); return this; }
  get isLeaf(): boolean { return native.isLeaf(this.handle); }
  /** The accumulated gradient, or null. A new handle to it each time (tracked by the scope). */
  get grad(): Tensor | null {
    const g = native.grad(this.handle) as NativeHandle | null;
    return g === null ? null : new Tensor(g);
  }
  set grad(value: Tensor | null) { native.setGrad(this.handle, value?.handle); }
  /** Drops the gradient (setToNone, as PyTorch's default) or fills it with zeros. */
  zeroGrad(setToNone = true): void { native.zeroGrad(this.handle, setToNone); }
  retainGrad(): void { native.retainGrad(this.handle); }
  /** Back-propagates from this tensor (a scalar, or any shape with `gradient`). */
  backward(gradient?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient?.handle, options.retainGraph, options.createGraph);
  }

  // ---------------------------------------------------------------- in place (optimizers, init)
  add_(other: TensorOrScalar, alpha?: number): this { return this.inplace('add_', h(other), alpha); }
  sub_(other: TensorOrScalar, alpha?: number): this { return this.inplace('sub_', h(other), alpha); }
  mul_(other: TensorOrScalar): this { return this.inplace('mul_', h(other)); }
  div_(other: TensorOrScalar): this { return this.inplace('div_', h(other)); }
  pow_(exponent: TensorOrScalar): this { return this.inplace('pow_', h(exponent)); }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('addcmul_', t1.handle, t2.handle, value); }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('addcdiv_', t1.handle, t2.handle, value); }
  /** this += weight * (end - this): the EMA update of momentum encoders and teachers. */
  lerp_(end: Tensor, weight: TensorOrScalar): this { return this.inplace('lerp_', end.handle, h(weight)); }
  copy_(src: Tensor): this { return this.inplace('copy_', src.handle); }
  zero_(): this { return this.inplace('zero_'); }
  fill_(value: Scalar): this { return this.inplace('fill_', value); }
  sqrt_(): this { return this.inplace('sqrt_'); }
  /** In-place ReLU (torchvision's ReLU(inplace=True)); allowed where backward does not need the input. */
  relu_(): this { return this.inplace('relu_'); }
  clamp_(min?: number | null, max?: number | null): this { return this.inplace('clamp_', min ?? undefined, max ?? undefined); }
  maskedFill_(mask: Tensor, value: Scalar): this { return this.inplace('maskedFill_', mask.handle, value); }
  normal_(mean = 0, std = 1, generator?: Generator): this { return this.inplace('normal_', mean, std, generator?.handle); }
  uniform_(low = 0, high = 1, generator?: Generator): this { return this.inplace('uniform_', low, high, generator?.handle); }
  /** Normal(mean, std) truncated to [a, b], as torch.nn.init.trunc_normal_. */
  truncNormal_(mean = 0, std = 1, a = -2, b = 2, generator?: Generator): this {
    return this.inplace('truncNormal_', mean, std, a, b, generator?.handle);
  }

  // ---------------------------------------------------------------- plumbing
  /** Calls addon op `name` with this tensor first and wraps the tensor it returns. */
  protected op<K extends OpOnTensor<NativeHandle>>(name: K, ...args: RestOf<K>): Tensor {
    return new Tensor((native[name] as (...a: unknown[]) => NativeHandle)(this.handle, ...args));
  }
  /** As op, for ops that return several tensors. */
  protected ops<K extends OpOnTensor<NativeHandle[]>>(name: K, ...args: RestOf<K>): Tensor[] {
    return (native[name] as (...a: unknown[]) => NativeHandle[])(this.handle, ...args).map((x) => new Tensor(x));
  }
  private inplace<K extends OpOnTensor<void>>(name: K, ...args: RestOf<K>): this {
    (native[name] as (...a: unknown[]) => void)(this.handle, ...args);
    return this;
  }
}

/** The addon's ops that take a tensor first and return `R`. */
type OpOnTensor<R> = { [K in keyof NativeOps]: NativeOps[K] extends (t: NativeHandle, ...rest: never[]) => R ? K : never }[keyof NativeOps];
/** An op's arguments after the tensor it is called on. */
type RestOf<K extends keyof NativeOps> = NativeOps[K] extends (t: NativeHandle, ...rest: infer A) => unknown ? A : never;
