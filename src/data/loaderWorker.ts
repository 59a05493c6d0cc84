/**
 * A loader worker thread: receives batches to make (image indices + seed + shared output
 * buffers), makes their views with {@link makeViewBatch} on its own engine thread, writes the
 * float32 views into the shared buffers (one copy, into memory that is reused batch after batch)
 * and posts their shapes back. Started by {@link DataLoader}; not an API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type MemoryFormat, setNumThreads } from '../tensor/index.js';
import type { ViewSet } from '../transforms/index.js';
import { type SkippedPhoto, makePhotoViewBatch } from './photoViews.js';
import { type PhotoStoreSpec, openPhotoStore } from './streamedImages.js';
import { type PixelSource, type ViewBatch, makeViewBatch } from './viewBatch.js';

export interface WorkerSetup {
  /** images in memory, or null for streamed photos */
  source: PixelSource | null;
  /** where streamed photos are read from */
  photos: PhotoStoreSpec | null;
  views: ViewSet;
  threads: number;
  memoryFormat: MemoryFormat;
  unreadable: 'replace' | 'drop';
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
export type WorkerReply =
  | { id: number; views: TensorInfo[]; mask: TensorInfo | null; skipped?: SkippedPhoto[]; used?: Int32Array }
  | { id: number; error: string };

const setup = workerData as WorkerSetup;
setNumThreads(setup.threads);

const store = setup.photos ? openPhotoStore(setup.photos) : null;
/** photos that failed in this worker: not read again */
const knownBad = new Set<number>();

async function make(task: WorkerTask): Promise<ViewBatch & { skipped?: SkippedPhoto[]; used?: Int32Array }> {
  if (store) return makePhotoViewBatch(store, task.indices, setup.views, task.seed, { knownBad, memoryFormat: setup.memoryFormat, unreadable: setup.unreadable });
  return makeViewBatch(setup.source!, task.indices, setup.views, task.seed, setup.memoryFormat);
}

parentPort!.on('message', async (task: WorkerTask) => {
  try {
    const batch = await make(task);
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
    parentPort!.postMessage({ id: task.id, views, mask, skipped: batch.skipped, used: batch.used } satisfies WorkerReply);
  } catch (error) {
    parentPort!.postMessage({ id: task.id, error: (error as Error).message } satisfies WorkerReply);
  }
});
