/**
 * A loader worker thread: receives batches to make (image indices + seed), makes their views
 * with {@link makeViewBatch} on its own engine thread, and posts the float32 bytes back.
 * Started by {@link DataLoader}; not an API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setNumThreads } from '../tensor/index.js';
import type { ViewSet } from '../transforms/index.js';
import { type PixelSource, makeViewBatch } from './viewBatch.js';

export interface WorkerSetup {
  source: PixelSource;
  views: ViewSet;
  threads: number;
}
export interface WorkerTask {
  id: number;
  indices: Int32Array;
  seed: number;
}
export interface EncodedTensor {
  bytes: Uint8Array;
  shape: number[];
  dtype: 'float32' | 'bool';
}
export type WorkerReply = { id: number; views: EncodedTensor[]; mask: EncodedTensor | null } | { id: number; error: string };

const setup = workerData as WorkerSetup;
setNumThreads(setup.threads);

parentPort!.on('message', (task: WorkerTask) => {
  try {
    const batch = makeViewBatch(setup.source, task.indices, setup.views, task.seed);
    const encode = (t: NonNullable<typeof batch.mask>): EncodedTensor => {
      const raw = t.toBytes();
      // Transfer the bytes' own buffer when they fill it; else one copy into a fresh one.
      const bytes = raw.byteOffset === 0 && raw.buffer.byteLength === raw.length ? new Uint8Array(raw.buffer) : new Uint8Array(raw);
      const out = { bytes, shape: t.shape.slice(), dtype: t.dtype as 'float32' | 'bool' };
      t.dispose();
      return out;
    };
    const reply: WorkerReply = { id: task.id, views: batch.views.map(encode), mask: batch.mask ? encode(batch.mask) : null };
    const transfer = [...reply.views.map((v) => v.bytes.buffer), ...(reply.mask ? [reply.mask.bytes.buffer] : [])];
    parentPort!.postMessage(reply, transfer as ArrayBuffer[]);
  } catch (error) {
    parentPort!.postMessage({ id: task.id, error: (error as Error).message } satisfies WorkerReply);
  }
});
