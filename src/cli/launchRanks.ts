/**
 * `selfsup pretrain --nproc N`: starts this machine's ranks of a data-parallel run as child
 * processes of the same command, as torchrun does: each gets RANK, LOCAL_RANK, WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT and its share of the cores (SELFSUP_NUM_THREADS). Rank 0's output
 * passes through; the others' lines are prefixed with their rank. When one rank fails, the others
 * are stopped and the launcher exits with the failed rank's code.
 *
 * Several machines: run the same command on each with --nnodes M --node-rank k --master-addr
 * <rank 0's machine> (and --master-port), or start every rank yourself with torchrun's variables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';

export interface LaunchOptions {
  /** processes on this machine */
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  /** default: a free port on a single machine, 29500 across machines */
  masterPort?: number;
  /** threads per process (default: this machine's cores shared out) */
  threads?: number;
  /** the command line to run in each rank (default: this process's own) */
  command?: string[];
  log?: (line: string) => void;
}

/** A TCP port nobody listens on now (the operating system's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Runs the ranks; resolves with the exit code of the run (0 when every rank succeeded). */
export async function launchRanks(o: LaunchOptions): Promise<number> {
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (o.nodeRank >= o.nnodes) throw new Error(`--node-rank ${o.nodeRank} must be below --nnodes ${o.nnodes}`);
  const worldSize = o.nproc * o.nnodes;
  const port = o.masterPort ?? (o.nnodes === 1 ? await freePort() : 29500);
  const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / o.nproc));
  const [executable, ...args] = o.command ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  log(`launching ranks ${o.nodeRank * o.nproc}..${(o.nodeRank + 1) * o.nproc - 1} of ${worldSize} ` +
    `(${threads} thread(s) each), rendezvous at ${o.masterAddr}:${port}`);
  const children: ChildProcess[] = [];
  let failure: { rank: number; code: number } | null = null;
  const stopOthers = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    setTimeout(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); }, 10_000).unref();
  };
  const forward = (signal: NodeJS.Signals) => () => { for (const c of children) c.kill(signal); };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const exits = Array.from({ length: o.nproc }, (_, local) => {
    const rank = o.nodeRank * o.nproc + local;
    const child = spawn(executable, args, {
      stdio: rank === 0 ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, RANK: String(rank), LOCAL_RANK: String(local), WORLD_SIZE: String(worldSize), LOCAL_WORLD_SIZE: String(o.nproc),
        GROUP_RANK: String(o.nodeRank), MASTER_ADDR: o.masterAddr, MASTER_PORT: String(port), SELFSUP_NUM_THREADS: String(threads),
      },
    });
    children.push(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => process.stderr.write(`[rank ${rank}] ${line}\n`));
    }
    return new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        const status = code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1) : 1);
        if (status !== 0 && !failure) {
          failure = { rank, code: status };
          log(`rank ${rank} exited with ${signal ? `signal ${signal}` : `code ${code}`}: stopping the other ranks`);
          stopOthers();
        }
        resolve();
      });
      child.on('error', (e) => {
        if (!failure) failure = { rank, code: 1 };
        log(`rank ${rank} could not start: ${e.message}`);
        stopOthers();
        resolve();
      });
    });
  });
  await Promise.all(exits);
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  return (failure as { code: number } | null)?.code ?? 0;
}
