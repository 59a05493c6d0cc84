/**
 * Collectives across processes on libtorch's c10d (torch.distributed): one process group per
 * process, Gloo on CPU, NCCL where the linked libtorch has CUDA. Each process is a rank in
 * [0, worldSize); the group is made from a TCP store served by rank 0 (MASTER_ADDR / MASTER_PORT,
 * as torchrun) or a file every rank can reach.
 *
 * Without a process group (or with a world of one) every collective is the identity, so losses
 * and layers call them unconditionally (as solo-learn's `gather`).
 *
 * ```ts
 * initProcessGroupFromEnvironment();          // RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
 * const all = allGatherWithGrad(z);           // [worldSize * n, D]; backward reaches this rank's rows
 * allReduce(counts, 'sum');                   // in place
 * averageGradients(model.parameters());       // data-parallel: the mean of every rank's gradient
 * ```
 */
import { native } from './native.js';
import { Tensor } from './tensor.js';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** 'gloo' (CPU; default) or 'nccl' (CUDA tensors, a libtorch with NCCL) */
  backend?: 'gloo' | 'nccl';
  /** 'tcp://host:port' (rank 0 serves the store there) or 'file:///path/to/store' (default tcp://127.0.0.1:29500) */
  initMethod?: string;
  /** how long a collective or the rendezvous may wait for the other ranks (default 1800 s, as torch) */
  timeoutSeconds?: number;
}

export interface ProcessGroupInfo {
  rank: number;
  worldSize: number;
}

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'product';

let current: (ProcessGroupInfo & { backend: string }) | null = null;

function parseInitMethod(initMethod: string): { kind: 'tcp' | 'file'; address: string; port: number } {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(initMethod);
  if (tcp) {
    const port = Number(tcp[2]);
    if (!(port > 0 && port < 65536)) throw new Error(`initMethod ${initMethod}: the port must be in 1..65535`);
    return { kind: 'tcp', address: tcp[1].replace(/^\[|\]$/g, ''), port };
  }
  if (initMethod.startsWith('file://') && initMethod.length > 'file://'.length) return { kind: 'file', address: initMethod.slice('file://'.length), port: 0 };
  throw new Error(`initMethod: expected 'tcp://host:port' or 'file:///path', got '${initMethod}'`);
}

/** The process-group backends this build of the addon has: Gloo where gloo's headers were there to build it
 * (Debian's libgloo-dev; PyTorch's wheels ship none), NCCL where LIBTORCH has CUDA and c10d NCCL. */
export function processGroupBackends(): Array<'gloo' | 'nccl'> {
  return native.distBackends().split(',').filter((name): name is 'gloo' | 'nccl' => name === 'gloo' || name === 'nccl');
}

/** Joins (or with rank 0, opens) the process group; returns when every rank has joined. */
export function initProcessGroup(o: ProcessGroupOptions): ProcessGroupInfo {
  const backend = o.backend ?? 'gloo';
  const built = processGroupBackends();
  if (!built.includes(backend)) {
    const how = backend === 'gloo' ? 'install libgloo-dev and run npm run setup' : 'build the addon against a libtorch with CUDA and NCCL (LIBTORCH)';
    throw new Error(`initProcessGroup: backend '${backend}' is not in this build of the addon (it has ${built.length ? built.join(', ') : 'no c10d'}; ${how})`);
  }
  if (!(Number.isInteger(o.worldSize) && o.worldSize >= 1)) throw new Error(`initProcessGroup: worldSize must be a positive integer, got ${o.worldSize}`);
  if (!(Number.isInteger(o.rank) && o.rank >= 0 && o.rank < o.worldSize)) throw new Error(`initProcessGroup: rank must be an integer in [0, ${o.worldSize}), got ${o.rank}`);
  const timeout = o.timeoutSeconds ?? 1800;
  if (!(timeout > 0)) throw new Error(`initProcessGroup: timeoutSeconds must be positive, got ${timeout}`);
  const { kind, address, port } = parseInitMethod(o.initMethod ?? 'tcp://127.0.0.1:29500');
  try {
    native.distInit(backend, o.rank, o.worldSize, kind, address, port, Math.round(timeout * 1000));
  } catch (e) {
    throw new Error(`initProcessGroup: rank ${o.rank} of ${o.worldSize} could not join the group at ${o.initMethod ?? 'tcp://127.0.0.1:29500'} ` +
      `(${backend}): ${(e as Error).message}`);
  }
  current = { rank: o.rank, worldSize: o.worldSize, backend };
  return { rank: o.rank, worldSize: o.worldSize };
}

/**
 * Joins the group torchrun (or `selfsup pretrain --nproc`) describes in the environment: RANK,
 * WORLD_SIZE, MASTER_ADDR (default 127.0.0.1), MASTER_PORT (default 29500). Null when WORLD_SIZE
 * is not set (a single process).
 */
export function initProcessGroupFromEnvironment(
  env: NodeJS.ProcessEnv = process.env, o: Pick<ProcessGroupOptions, 'backend' | 'timeoutSeconds'> = {},
): ProcessGroupInfo | null {
  if (env.WORLD_SIZE === undefined) return null;
  const number = (name: string): number => {
    const v = Number(env[name]);
    if (env[name] === undefined || !Number.isInteger(v) || v < 0) throw new Error(`environment: ${name} must be a non-negative integer, got '${env[name]}'`);
    return v;
  };
  const worldSize = number('WORLD_SIZE');
  const rank = number('RANK');
  const host = env.MASTER_ADDR ?? '127.0.0.1';
  const port = env.MASTER_PORT ?? '29500';
  return initProcessGroup({ ...o, rank, worldSize, initMethod: `tcp://${host.includes(':') ? `[${host}]` : host}:${port}` });
}

/** Leaves the group (closes the store and the backend's connections). */
export function destroyProcessGroup(): void {
  if (current) native.distDestroy();
  current = null;
}

/** This process's rank and the world size, or null without a process group. */
export function processGroup(): ProcessGroupInfo | null {
  return current && { rank: current.rank, worldSize: current.worldSize };
}

/** The rank of this process (0 without a process group). */
export function worldRank(): number {
  return current?.rank ?? 0;
}

/** The number of processes (1 without a process group). */
export function worldSize(): number {
  return current?.worldSize ?? 1;
}

/** Runs a collective, turning a failure into an error that says which rank and what to look for. */
function collective<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(`distributed ${name} failed on rank ${worldRank()} of ${worldSize()} (${current?.backend}): ${message}\n` +
      'if another process of the run stopped (killed, out of memory, an error), its own output says why; ' +
      'otherwise the ranks did not reach this collective together (or the network is unreachable within the timeout).');
  }
}

/** Reduces `t` over the ranks in place ('mean' divides the sum by the world size); returns `t`. */
export function allReduce(t: Tensor, op: ReduceOp = 'sum'): Tensor {
  if (worldSize() === 1) return t;
  collective('allReduce', () => native.distAllReduce(t.handle, op === 'mean' ? 'sum' : op));
  if (op === 'mean') t.div_(worldSize());
  return t;
}

/** Every rank's `t` (one shape on every rank) stacked along dim 0: [worldSize * n, ...]; no gradient. */
export function allGather(t: Tensor): Tensor {
  if (worldSize() === 1) return t;
  return new Tensor(collective('allGather', () => native.distAllGather(t.handle)));
}

/**
 * All-gather through which gradients flow (SimCLR's GatherLayer): backward sums every rank's
 * gradient of the gathered tensor and keeps this rank's rows, so a loss on the gathered batch
 * trains as if one process held it. `t` itself without a process group.
 */
export function allGatherWithGrad(t: Tensor): Tensor {
  if (worldSize() === 1) return t;
  return new Tensor(collective('allGatherWithGrad', () => native.distAllGatherWithGrad(t.handle)));
}

/** The sum of `t` over the ranks, differentiable (backward sums the gradients over the ranks): SyncBatchNorm's statistics. */
export function allReduceSumWithGrad(t: Tensor): Tensor {
  if (worldSize() === 1) return t;
  return new Tensor(collective('allReduceSumWithGrad', () => native.distAllReduceSumWithGrad(t.handle)));
}

/** Overwrites `tensors` with rank `root`'s values (in buckets of `bucketMB`). */
export function broadcast(tensors: readonly Tensor[], root = 0, bucketMB = 25): void {
  if (worldSize() === 1 || tensors.length === 0) return;
  collective('broadcast', () => native.distBroadcast(tensors.map((t) => t.handle), root, Math.round(bucketMB * 2 ** 20)));
}

/**
 * Data parallelism's gradient step: every parameter's gradient becomes its mean over the ranks
 * (a parameter without one counts as zeros), all-reduced in buckets of `bucketMB` that are in
 * flight together (PyTorch DDP's 25 MB).
 */
export function averageGradients(parameters: readonly Tensor[], bucketMB = 25): void {
  if (worldSize() === 1 || parameters.length === 0) return;
  collective('averageGradients', () => native.distAverageGradients(parameters.map((t) => t.handle), Math.round(bucketMB * 2 ** 20)));
}

/** Waits until every rank has called it. */
export function barrier(): void {
  if (worldSize() === 1) return;
  collective('barrier', () => native.distBarrier());
}
