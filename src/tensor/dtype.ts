/** Element types a tensor can hold (libtorch's names in PyTorch spelling). */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** 'cpu', or 'cuda' / 'cuda:N' when the linked libtorch has CUDA. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/**
 * How a 4-D tensor [N, C, H, W] lies in memory: 'contiguous' (NCHW, row-major) or 'channels_last'
 * (NHWC strides, the shape unchanged: torch.channels_last), which oneDNN's convolutions prefer.
 */
export type MemoryFormat = 'contiguous' | 'channels_last';

export const FLOAT_DTYPES: ReadonlySet<DType> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

export function isFloatingPoint(dtype: DType): boolean {
  return FLOAT_DTYPES.has(dtype);
}

/** Typed arrays a tensor can be created from and read into. */
export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int16Array | Int8Array;
