/**
 * The order in which a loader visits a data set: a seeded permutation per epoch (the same on every
 * process, so ranks agree), split between processes as torch's DistributedSampler (padded by
 * wrapping around, or cut, to a multiple of the world size; rank r takes every world-th index from
 * r), then cut into batches. Everything follows from (seed, epoch), so a position { epoch, batch }
 * is all a checkpoint needs to resume the same order.
 *
 * ```ts
 * const plan = epochBatches(50000, 3, { batchSize: 256, seed: 0, rank: 0, worldSize: 2 });
 * plan.length;   // 97 batches of this rank's 25000 images (drop last)
 * ```
 */
import { Generator, randperm, tidy } from '../tensor/index.js';

export interface SamplerOptions {
  batchSize: number;
  shuffle?: boolean;
  /** drop the last incomplete batch (default true: the training default) */
  dropLast?: boolean;
  seed?: number;
  rank?: number;
  worldSize?: number;
}

/** A 31-bit seed from several integers (splitmix-style mixing), for per-epoch and per-batch generators. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h ^ Math.floor(p / 2 ** 32), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 1;
}

export function checkSamplerOptions(length: number, o: SamplerOptions): void {
  const world = o.worldSize ?? 1;
  const rank = o.rank ?? 0;
  if (!(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
  if (!(Number.isInteger(world) && world > 0)) throw new Error(`worldSize must be a positive integer, got ${world}`);
  if (!(Number.isInteger(rank) && rank >= 0 && rank < world)) throw new Error(`rank must be an integer in [0, ${world}), got ${rank}`);
  if (length === 0) throw new Error('the data set is empty');
  const perRank = (o.dropLast ?? true) ? Math.floor(length / world) : Math.ceil(length / world);
  if ((o.dropLast ?? true) && perRank < o.batchSize) {
    throw new Error(`batchSize ${o.batchSize} is larger than the ${perRank} images each of ${world} process(es) gets: no complete batch (lower batchSize or set dropLast: false)`);
  }
}

/** This rank's indices for one epoch, in visiting order. */
export function epochIndices(length: number, epoch: number, o: SamplerOptions): Int32Array {
  checkSamplerOptions(length, o);
  const world = o.worldSize ?? 1;
  const rank = o.rank ?? 0;
  const order = (o.shuffle ?? true)
    ? tidy(() => randperm(length, { generator: new Generator(mixSeed(o.seed ?? 0, epoch)) }).int().data<Int32Array>())
    : Int32Array.from({ length }, (_, i) => i);
  const total = (o.dropLast ?? true) ? Math.floor(length / world) * world : Math.ceil(length / world) * world;
  const perRank = total / world;
  const out = new Int32Array(perRank);
  for (let k = 0; k < perRank; k++) out[k] = order[(rank + k * world) % length];
  return out;
}

/** This rank's batches for one epoch (the last one dropped when incomplete and dropLast). */
export function epochBatches(length: number, epoch: number, o: SamplerOptions): Int32Array[] {
  const indices = epochIndices(length, epoch, o);
  const batches: Int32Array[] = [];
  for (let start = 0; start < indices.length; start += o.batchSize) {
    const end = Math.min(indices.length, start + o.batchSize);
    if (end - start < o.batchSize && (o.dropLast ?? true)) break;
    batches.push(indices.subarray(start, end));
  }
  return batches;
}
