/**
 * A loader worker thread: receives batches to make (image indices + seed + shared output
 * buffers), makes their views with {@link makeViewBatch} on its own engine thread, writes the
 * float32 views into the shared buffers (one copy, into memory that is reused batch after batch)
 * and posts their shapes back. Started by {@link DataLoader}; not an API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type MemoryFormat, setNumThreads } from '../tensor/index.js';
import type { ViewSet } from '../transforms/index.js';
import { type PixelSource, makeViewBatch } from './viewBatch.js';

export interface WorkerSetup {
  source: PixelSource;
  views: ViewSet;
  threads: number;
  memoryFormat: MemoryFormat;
}
export interface WorkerTask {
  id: number;
  indices: Int32Array;
  seed: number;
  /** one buffer per view, large enough for it */
  outputs: SharedArrayBuffer[];
}
/** A tensor written to the start of a task's output buffer (views) or sent as bytes (masks). */
export interface TensorInfo {
  shape: number[];
  dtype: 'float32' | 'bool';
  /** 'channels_last': the bytes are in NHWC order (the shape is still [N, C, H, W]) */
  memoryFormat?: MemoryFormat;
  byteLength: number;
  bytes?: Uint8Array;
}
export type WorkerReply = { id: number; views: TensorInfo[]; mask: TensorInfo | null } | { id: number; error: string };

const setup = workerData as WorkerSetup;
setNumThreads(setup.threads);

parentPort!.on('message', (task: WorkerTask) => {
  try {
    const batch = makeViewBatch(setup.source, task.indices, setup.views, task.seed, setup.memoryFormat);
    const views = batch.views.map((v, k): TensorInfo => {
      const byteLength = v.numel * 4;
      const inMemoryOrder = setup.memoryFormat === 'channels_last' ? v.permute(0, 2, 3, 1) : v;   // NHWC: a view, no copy
      inMemoryOrder.copyTo(new Uint8Array(task.outputs[k], 0, byteLength));
      if (inMemoryOrder !== v) inMemoryOrder.dispose();
      v.dispose();
      return { shape: v.shape.slice(), dtype: 'float32', memoryFormat: setup.memoryFormat, byteLength };
    });
    let mask: TensorInfo | null = null;
    if (batch.mask) {
      const bytes = new Uint8Array(batch.mask.toBytes());
      mask = { shape: batch.mask.shape.slice(), dtype: 'bool', byteLength: bytes.length, bytes };
      batch.mask.dispose();
    }
    parentPort!.postMessage({ id: task.id, views, mask } satisfies WorkerReply);
  } catch (error) {
    parentPort!.postMessage({ id: task.id, error: (error as Error).message } satisfies WorkerReply);
  }
});
