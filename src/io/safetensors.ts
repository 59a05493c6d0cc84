/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
 * header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {...}} padded
 * with spaces to a multiple of 8, then the raw little-endian tensor bytes. Written and read
 * here in TypeScript; files load in Python with safetensors or with
 * tools/load_safetensors.py (python3-torch only).
 *
 * ```ts
 * writeSafetensors('encoder.safetensors', model.stateDict(), { arch: 'resnet18' });
 * const { tensors, metadata } = readSafetensors('encoder.safetensors');
 * model.loadStateDict(tensors);
 * ```
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { type DType, type Tensor, fromBytes } from '../tensor/index.js';
import { atomicWriteFile } from './atomicWrite.js';

const CODES: Record<DType, string> = {
  float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const DTYPES = Object.fromEntries(Object.entries(CODES).map(([d, c]) => [c, d])) as Record<string, DType>;
const SIZES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

/** Writes `tensors` (in key order) atomically. */
export function writeSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const buffers: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error(`writeSafetensors(${path}): '__metadata__' cannot name a tensor`);
    const bytes = t.toBytes();
    header[name] = { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    buffers.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(jsonBytes.byteLength));
  atomicWriteFile(path, [length, jsonBytes, ...buffers]);
}

/** Reads a safetensors file; any inconsistency is an Error naming the file and the problem. */
export function readSafetensors(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (error) {
    throw new Error(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const fail = (problem: string): never => { throw new Error(`${path}: not a valid safetensors file: ${problem}`); };
  if (file.byteLength < 8) fail(`${file.byteLength} bytes, too short for the header length`);
  const headerLength = Number(file.readBigUInt64LE(0));
  if (headerLength > file.byteLength - 8) fail(`header length ${headerLength} exceeds the file (${file.byteLength} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    return fail('the header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = file.byteLength - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, Tensor>();
  const spans: [number, number, string][] = [];
  try {
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = raw as Entry;
      const dtype = DTYPES[e?.dtype];
      if (dtype === undefined) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e?.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has a bad shape`);
      const [begin, end] = e.data_offsets ?? [];
      const expected = e.shape.reduce((a, b) => a * b, 1) * SIZES[dtype];
      if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
        fail(`tensor '${name}' has offsets [${begin}, ${end}] outside the ${dataLength} data bytes (truncated file?)`);
      }
      if (end - begin !== expected) fail(`tensor '${name}' spans ${end - begin} bytes, its ${dtype}[${e.shape.join(', ')}] needs ${expected}`);
      spans.push([begin, end, name]);
      tensors.set(name, fromBytes(file.subarray(dataStart + begin, dataStart + end), e.shape, dtype));
    }
    // Tensors own disjoint byte ranges: two sharing bytes would be written through each other.
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i][0] < spans[i - 1][1]) fail(`tensors '${spans[i - 1][2]}' [${spans[i - 1][0]}, ${spans[i - 1][1]}] and '${spans[i][2]}' [${spans[i][0]}, ${spans[i][1]}] overlap`);
    }
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
  return { tensors, metadata };
}

/** The `__metadata__` of a safetensors file, reading its header only (a checkpoint's description without its tensors). */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const length = Buffer.alloc(8);
    if (readSync(fd, length, 0, 8, 0) !== 8) throw new Error(`${path}: not a valid safetensors file: too short for the header length`);
    const headerLength = Number(length.readBigUInt64LE(0));
    if (headerLength > 100 * 2 ** 20) throw new Error(`${path}: not a valid safetensors file: a header of ${headerLength} bytes`);
    const header = Buffer.alloc(headerLength);
    if (readSync(fd, header, 0, headerLength, 8) !== headerLength) throw new Error(`${path}: not a valid safetensors file: header length ${headerLength} exceeds the file`);
    let parsed: { __metadata__?: Record<string, string> };
    try {
      parsed = JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> };
    } catch {
      throw new Error(`${path}: not a valid safetensors file: the header is not JSON`);
    }
    return parsed?.__metadata__ ?? {};
  } finally {
    closeSync(fd);
  }
}
