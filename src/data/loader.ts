/**
 * The training data loader: batches of augmented views, made off the training thread.
 *
 * - Order: a seeded permutation per epoch, split across processes (see sampler.ts); iterate one
 *   epoch (`for await (const b of loader.epoch())`) or forever (`await loader.next()`).
 * - Work: each batch's views (and masks) are made by worker threads that each run the engine
 *   single-threaded, `prefetch` batches ahead; the training thread only copies the finished
 *   float32 bytes into a tensor. `workers: 0` makes batches in the calling thread.
 * - Determinism: a batch's augmentations depend only on (seed, epoch, batch, rank), never on
 *   which worker made it or on timing. `position` / `seek` save and restore the place in the
 *   order, so a resumed run sees exactly the batches it would have seen.
 *
 * ```ts
 * const loader = new DataLoader(images, { batchSize: 256, views: methodViews('simclr', { size: 32 }), seed: 0 });
 * for await (const { views: [a, b] } of loader.epoch()) { ... }   // float32 [256, 3, 32, 32] each
 * await loader.close();
 * ```
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type MemoryFormat, type Tensor, fromBytes, maxThreads, tensor } from '../tensor/index.js';
import { type ViewSet, checkViewConfig } from '../transforms/index.js';
import type { TensorInfo, WorkerReply, WorkerSetup, WorkerTask } from './loaderWorker.js';
import { type PhotoStore, type SkippedPhoto, makePhotoViewBatch } from './photoViews.js';
import { type SamplerOptions, checkSamplerOptions, epochBatches, mixSeed } from './sampler.js';
import { type ImageSet, StreamedImages, openPhotoStore } from './streamedImages.js';
import { type PixelSource, makeViewBatch } from './viewBatch.js';

export interface LoaderOptions extends SamplerOptions {
  views: ViewSet;
  /** worker threads making batches (default: half the cores, at least 1); 0 = the calling thread */
  workers?: number;
  /** batches made ahead of the one being consumed (default 2 per worker) */
  prefetch?: number;
  /** the views' layout: 'channels_last' (NHWC) for a channels_last ResNet, so the model does not copy them; default 'contiguous' */
  memoryFormat?: MemoryFormat;
  /** streamed photos: where a skipped photo is reported, once per photo (default: stderr) */
  warn?: (line: string) => void;
  /** streamed photos: a photo that cannot be read is 'replace'd by the next readable one (default) or 'drop'ped (a smaller batch; evaluation) */
  unreadable?: 'replace' | 'drop';
}

export interface Batch {
  /** one float32 [B, 3, s, s] per view, in the loader's memoryFormat */
  views: Tensor[];
  /** int64 [B] labels, or null for unlabeled data */
  labels: Tensor | null;
  /** bool [B, N] patch masks when the view set has them */
  mask: Tensor | null;
  /** the images of the batch (positions in the data set; a skipped photo's substitute in its place) */
  indices: Int32Array;
  epoch: number;
  /** batch number within the epoch */
  batch: number;
}

/** Where a loader is in its order: the next batch it will deliver. */
export interface LoaderPosition {
  epoch: number;
  batch: number;
}

interface Made {
  views: Tensor[];
  mask: Tensor | null;
  /** streamed photos: the photos used (substitutes for skipped ones) */
  used?: Int32Array;
}

interface Pending {
  position: LoaderPosition;
  indices: Int32Array;
  promise: Promise<Made>;
}

/** The tensor a worker wrote to the start of `buffer` (or sent as bytes). */
function decode(info: TensorInfo, buffer?: SharedArrayBuffer): Tensor {
  const bytes = info.bytes ?? new Uint8Array(buffer!, 0, info.byteLength);
  if (info.memoryFormat !== 'channels_last') return fromBytes(bytes, info.shape, info.dtype);
  const [n, c, h, w] = info.shape;
  const nhwc = fromBytes(bytes, [n, h, w, c], info.dtype);
  const nchw = nhwc.permute(0, 3, 1, 2);   // channels_last strides, NCHW shape
  nhwc.dispose();
  return nchw;
}

export class DataLoader {
  /** photos that could not be read or decoded so far (streamed data), by name, with the reason */
  readonly skipped = new Map<string, string>();
  private readonly source: PixelSource | null;
  private photoStore: PhotoStore | null = null;
  private readonly knownBad = new Set<number>();
  private readonly workerCount: number;
  private readonly prefetch: number;
  private workers: Worker[] = [];
  private waiting = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private nextTaskId = 0;
  private busy: number[] = [];
  private queue: Pending[] = [];
  /** the next batch to plan (ahead of `delivered` by the prefetched ones) */
  private planned: LoaderPosition;
  private delivered: LoaderPosition;
  private plans = new Map<number, Int32Array[]>();
  private perEpoch: number | undefined;
  private failure: Error | null = null;
  private closed = false;
  /** output buffers (one per view) of finished tasks, reused by the next ones */
  private freeOutputs: SharedArrayBuffer[][] = [];

  constructor(readonly data: ImageSet, readonly options: LoaderOptions) {
    checkSamplerOptions(data.length, options);
    if (options.views.views.length === 0) throw new Error('views: the view set has no views');
    options.views.views.forEach((v, i) => checkViewConfig(v, `views[${i}]`));
    const workers = options.workers ?? Math.max(1, Math.floor(availableParallelism() / 2));
    if (!(Number.isInteger(workers) && workers >= 0 && workers <= maxThreads())) {
      throw new Error(`workers must be a whole number from 0 to ${maxThreads()} (4 x the ${availableParallelism()} cores of this machine), got ${workers}`);
    }
    const prefetch = options.prefetch ?? 2 * Math.max(1, workers);
    if (!(Number.isInteger(prefetch) && prefetch >= 1)) throw new Error(`prefetch must be a positive integer, got ${prefetch}`);
    this.workerCount = workers;
    this.prefetch = prefetch;
    this.source = data instanceof StreamedImages ? null : { pixels: data.pixels, channels: data.channels, height: data.height, width: data.width };
    this.planned = { epoch: 0, batch: 0 };
    this.delivered = { epoch: 0, batch: 0 };
  }

  /**
   * Batches per epoch for this process (the same every epoch: only the order changes). Counted
   * once: planning epoch 0 again on every call would redraw its permutation once epoch 0's plan
   * has been dropped.
   */
  get batchesPerEpoch(): number {
    this.perEpoch ??= this.batchesOf(0).length;
    return this.perEpoch;
  }

  /** The next batch `next()` will deliver (save it in checkpoints). */
  get position(): LoaderPosition {
    return { ...this.delivered };
  }

  /** Continues from `position` (a saved `loader.position`): batches already made are dropped. */
  seek(position: LoaderPosition): void {
    if (!(Number.isInteger(position.epoch) && position.epoch >= 0 && Number.isInteger(position.batch) && position.batch >= 0)) {
      throw new Error(`seek: expected { epoch, batch } of non-negative integers, got ${JSON.stringify(position)}`);
    }
    if (position.batch > this.batchesPerEpoch) throw new Error(`seek: batch ${position.batch} is past the ${this.batchesPerEpoch} batches of an epoch`);
    for (const p of this.queue) p.promise.then((b) => disposeBatch(b), () => undefined);
    this.queue = [];
    this.delivered = normalise(position, this.batchesPerEpoch);
    this.planned = { ...this.delivered };
  }

  /** The next batch, rolling over into the next epoch (infinite iteration). */
  async next(): Promise<Batch> {
    if (this.closed) throw new Error('DataLoader: next() after close()');
    if (this.failure) throw this.failure;
    this.fill();
    const pending = this.queue.shift()!;
    this.delivered = normalise({ epoch: pending.position.epoch, batch: pending.position.batch + 1 }, this.batchesPerEpoch);
    this.fill();
    const { views, mask, used } = await pending.promise;
    const indices = used ?? pending.indices;
    const labels = this.data.labels ? tensor(Float64Array.from(indices, (i) => this.data.labels![i]), { dtype: 'int64' }) : null;
    return { views, mask, labels, indices, ...pending.position };
  }

  /** The rest of the current epoch (all of it when at its start). */
  async *epoch(): AsyncGenerator<Batch> {
    const epoch = this.delivered.epoch;
    while (this.delivered.epoch === epoch) yield await this.next();
  }

  /** Stops the workers; the loader cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue) p.promise.then((b) => disposeBatch(b), () => undefined);
    this.queue = [];
    // ref(): an idle (unref'd) worker would not keep the event loop alive until its exit.
    await Promise.all(this.workers.map((w) => { w.ref(); return w.terminate(); }));
    this.workers = [];
  }

  private batchesOf(epoch: number): Int32Array[] {
    let plan = this.plans.get(epoch);
    if (!plan) {
      plan = epochBatches(this.data.length, epoch, this.options);
      this.plans.set(epoch, plan);
      for (const e of this.plans.keys()) if (e < epoch - 1) this.plans.delete(e);
    }
    return plan;
  }

  /** Plans batches until `prefetch` are in flight. */
  private fill(): void {
    while (this.queue.length < (this.workerCount === 0 ? 1 : this.prefetch)) {
      const position = this.planned;
      const indices = this.batchesOf(position.epoch)[position.batch];
      const seed = mixSeed(this.options.seed ?? 0, position.epoch, position.batch, this.options.rank ?? 0);
      const promise = this.make(indices, seed);
      promise.catch(() => undefined); // a failure is reported when this batch is awaited, not before
      this.queue.push({ position, indices, promise });
      this.planned = normalise({ epoch: position.epoch, batch: position.batch + 1 }, this.batchesPerEpoch);
    }
  }

  /** Reports photos skipped while making a batch (each once) and remembers them. */
  private noteSkipped(skipped: readonly SkippedPhoto[]): void {
    for (const s of skipped) {
      this.knownBad.add(s.index);
      if (this.skipped.has(s.name)) continue;
      this.skipped.set(s.name, s.reason);
      (this.options.warn ?? ((line: string) => process.stderr.write(line + '\n')))(`selfsup: skipping ${s.name}: ${s.reason} (${this.skipped.size} skipped so far)`);
    }
  }

  private make(indices: Int32Array, seed: number): Pending['promise'] {
    if (this.workerCount === 0) {
      // Made in the calling thread (images in memory: when awaited; photos: decoding starts now, in libvips' threads).
      if (this.source) return Promise.resolve().then(() => makeViewBatch(this.source!, indices, this.options.views, seed, this.options.memoryFormat));
      this.photoStore ??= openPhotoStore((this.data as StreamedImages).store);
      return makePhotoViewBatch(this.photoStore, indices, this.options.views, seed, { memoryFormat: this.options.memoryFormat, knownBad: this.knownBad, unreadable: this.options.unreadable })
        .then((b) => { this.noteSkipped(b.skipped); return b; });
    }
    this.startWorkers();
    const slot = this.busy.indexOf(Math.min(...this.busy));
    // A worker with work keeps the process alive; an idle one does not hold it open.
    if (this.busy[slot]++ === 0) this.workers[slot].ref();
    const id = this.nextTaskId++;
    const outputs = this.freeOutputs.pop()
      ?? this.options.views.views.map((v) => new SharedArrayBuffer(this.options.batchSize * 3 * v.size * v.size * 4));
    return new Promise<WorkerReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.workers[slot].postMessage({ id, indices, seed, outputs } satisfies WorkerTask);
    }).then((reply) => {
      // (Not while closing: close() holds the workers until they have exited.)
      if (--this.busy[slot] === 0 && !this.closed) this.workers[slot].unref();
      try {
        if ('error' in reply) throw new Error(`DataLoader: making a batch failed: ${reply.error}`);
        this.noteSkipped(reply.skipped ?? []);
        return { views: reply.views.map((v, k) => decode(v, outputs[k])), mask: reply.mask ? decode(reply.mask) : null, used: reply.used };
      } finally {
        this.freeOutputs.push(outputs); // copied into tensors: the buffers can take the next batch
      }
    });
  }

  private startWorkers(): void {
    if (this.workers.length > 0) return;
    // Workers read the images from shared memory: one copy when they are not shared yet.
    if (this.source && !(this.source.pixels.buffer instanceof SharedArrayBuffer)) {
      const shared = new Uint8Array(new SharedArrayBuffer(this.source.pixels.length));
      shared.set(this.source.pixels);
      this.source.pixels = shared;
    }
    const photos = this.data instanceof StreamedImages ? this.data.store : null;
    const setup: WorkerSetup = { source: this.source, photos, views: this.options.views, threads: 1, memoryFormat: this.options.memoryFormat ?? 'contiguous', unreadable: this.options.unreadable ?? 'replace' };
    for (let i = 0; i < this.workerCount; i++) {
      const worker = new Worker(new URL('./loaderWorker.js', import.meta.url), { workerData: setup });
      worker.unref();
      worker.on('message', (reply: WorkerReply) => {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        waiter?.resolve(reply);
      });
      const fail = (error: Error) => {
        if (this.closed) return;
        this.failure = new Error(`DataLoader: a worker thread stopped: ${error.message}`);
        for (const w of this.waiting.values()) w.reject(this.failure);
        this.waiting.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
      this.workers.push(worker);
      this.busy.push(0);
    }
  }
}

function normalise(p: LoaderPosition, perEpoch: number): LoaderPosition {
  return p.batch >= perEpoch ? { epoch: p.epoch + 1, batch: 0 } : p;
}

function disposeBatch(b: { views: Tensor[]; mask: Tensor | null }): void {
  for (const v of b.views) v.dispose();
  b.mask?.dispose();
}
