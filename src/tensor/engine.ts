/**
 * The engine's process-wide settings: threads, seeds, devices, memory.
 *
 * Loading selfsup sets libtorch's intra-op threads to the cores this process may use
 * (SELFSUP_NUM_THREADS or OMP_NUM_THREADS override) and installs a caching CPU
 * allocator, so a plain `node` process is fast with nothing set by the user.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { native } from './native.js';
import { Generator, Tensor } from './tensor.js';
import type { Device } from './dtype.js';

/** The most threads (or loader workers) a process may ask for: 4 per core; more only thrash (and thousands hang). */
export function maxThreads(): number {
  return 4 * availableParallelism();
}

export function setNumThreads(n: number): void {
  if (!(Number.isInteger(n) && n >= 1 && n <= maxThreads())) {
    throw new Error(`setNumThreads(${n}): expected a whole number from 1 to ${maxThreads()} (4 x the ${availableParallelism()} cores of this machine)`);
  }
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}
/**
 * The device creation functions use when none is named, for the calling thread (as
 * torch.set_default_device): `setDefaultDevice('cuda')` puts a model built afterwards, the
 * batches made from bytes and every tensor its code creates on the GPU; seeded generators stay on
 * the CPU and their numbers are moved, so a seed gives the same weights on every device. The
 * environment variable SELFSUP_DEVICE sets it for the main thread when selfsup loads.
 */
export function setDefaultDevice(device: Device): void {
  native.setDefaultDevice(device);
}

export function defaultDevice(): Device {
  return native.defaultDevice() as Device;
}

/** Seeds the global generator used by random ops that are given no Generator. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}
/** The state of a random generator (the global one by default) as a uint8 tensor, for checkpoints. */
export function rngState(generator?: Generator): Tensor {
  return new Tensor(native.rngState(generator?.handle));
}
/** Restores a state from {@link rngState}: the following draws repeat exactly. */
export function setRngState(state: Tensor, generator?: Generator): void {
  native.setRngState(state.handle, generator?.handle);
}

/**
 * The file's bytes through a private memory mapping (pages load on demand; writes stay in
 * this process). Used by the decoded-image cache.
 */
export function mapFile(path: string): Buffer {
  return native.mapFile(path);
}

/** Tensor handles alive in the addon (created and not yet disposed or collected). */
export function liveTensors(): number {
  return native.liveTensors();
}

export interface AllocatorStats {
  /** whether the caching allocator is libtorch's CPU allocator (SELFSUP_CPU_ALLOCATOR=default turns it off) */
  caching: boolean;
  liveBytes: number;
  peakLiveBytes: number;
  cachedBytes: number;
  hits: number;
  misses: number;
}
/** Large-block statistics of the caching CPU allocator. */
export function allocatorStats(): AllocatorStats {
  return native.allocatorStats() as unknown as AllocatorStats;
}
/**
 * The process's malloc, which serves libtorch's own small C++ allocations: 'tcmalloc' where it was
 * preloaded (the `selfsup` command, the demo and the benchmarks start node with it:
 * bin/node-with-tcmalloc), else 'glibc' (read from /proc/self/maps; 'unknown' off Linux).
 */
export function processMalloc(): 'tcmalloc' | 'glibc' | 'unknown' {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 'unknown';
  }
  return /libtcmalloc/.test(maps) ? 'tcmalloc' : 'glibc';
}

/** Returns the allocator's cached blocks to the system. */
export function emptyCache(): void {
  native.emptyCache();
}

export interface EngineInfo {
  torchVersion: string;
  numThreads: number;
  cuda: boolean;
  mkldnn: boolean;
  openmp: boolean;
  cachingAllocator: boolean;
  parallelInfo: string;
}
export function engineInfo(): EngineInfo {
  return native.info() as unknown as EngineInfo;
}

export const cuda = {
  /** True when the linked libtorch was built with CUDA and a GPU is visible. */
  isAvailable(): boolean {
    return native.cudaIsAvailable();
  },
  deviceCount(): number {
    return native.cudaDeviceCount();
  },
};
