/**
 * NumPy .npy files (format 1.0): a float32 / float64 / int64 / int32 / uint8 tensor as an array
 * `numpy.load` reads, written atomically.
 *
 * ```ts
 * writeNpy('embeddings.npy', features);   // numpy.load('embeddings.npy').shape == (N, D)
 * ```
 */
import { type Tensor, tidy } from '../tensor/index.js';
import { atomicWriteFile } from './atomicWrite.js';

const DESCR: Record<string, string> = { float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1' };

export function npyBytes(t: Tensor): Buffer[] {
  const descr = DESCR[t.dtype];
  if (!descr) throw new Error(`npy: no NumPy type for ${t.dtype} (expected one of ${Object.keys(DESCR).join(', ')})`);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1; // magic + version + length, the header, the newline
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const preamble = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(preamble, 0);
  preamble[6] = 1;
  preamble[7] = 0;
  preamble.writeUInt16LE(header.length, 8);
  return [preamble, Buffer.from(header, 'latin1'), tidy(() => t.contiguous().toBytes())];
}

export function writeNpy(path: string, t: Tensor): void {
  atomicWriteFile(path, npyBytes(t));
}
