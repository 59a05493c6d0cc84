/**
 * A run folder is owned by the one process that trains in it. This module knows a run's files,
 * takes and releases the folder's lock, decides whether a folder may receive a run, and keeps every
 * other writer off a run's files:
 * - `claimRunFolder(out, { resume, overwrite })`: refuses the filesystem root and the home folder,
 *   refuses a folder that holds a run unless `resume` (continue it) or `overwrite` (its run files are
 *   removed first) says so, and takes `<out>/run.lock` (pid and host; a lock left by a dead process on
 *   this host is taken over; a live one, or one from another host, refuses with its owner named).
 *   Taking it removes the half-written copies (`.checkpoint.safetensors.tmp-<pid>`, ...) that an owner
 *   killed mid-write left beside the run's files.
 * - `refuseRunFile(path)`: called by every atomic write; a run's own files (checkpoint, metrics,
 *   config, ...) may be written only by the process holding that run's lock.
 *
 * ```ts
 * const lock = claimRunFolder('runs/simclr', { resume: false, overwrite: false });
 * try { ...train... } finally { lock.release(); }
 * ```
 */
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { basename, dirname, join, parse, resolve } from 'node:path';
import { removeStaleTemporaries } from './atomicWrite.js';
import { isProcessRunning } from './processes.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const METRICS_FILE = 'metrics.jsonl';
export const LOCK_FILE = 'run.lock';
/** The files (and the TensorBoard folder) a training run writes into its folder. */
export const RUN_FILES = [CHECKPOINT_FILE, METRICS_FILE, 'config.json', 'cost.json', 'summary.json', 'views.png', 'tensorboard', LOCK_FILE] as const;

/** Whether `dir` holds a run: a checkpoint, or metrics with at least one line. */
export function isRunFolder(dir: string): boolean {
  if (existsSync(join(dir, CHECKPOINT_FILE))) return true;
  const metrics = statSync(join(dir, METRICS_FILE), { throwIfNoEntry: false });
  return metrics !== undefined && metrics.size > 0;
}

interface LockOwner { pid: number; host: string; started: string }

/** The run folders this process holds, by real path, with how many claims each has. */
const held = new Map<string, { path: string; claims: number }>();

function realFolder(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** Refuses outputs that would scatter a run over the filesystem root or the home folder itself. */
export function checkRunOutput(out: string): void {
  const dir = realFolder(out);
  if (dir === parse(dir).root) throw new Error(`--out ${out}: the filesystem root cannot hold a run; name a folder for it (e.g. runs/simclr)`);
  if (dir === realFolder(homedir())) throw new Error(`--out ${out}: your home folder itself cannot hold a run; name a folder inside it (e.g. ~/runs/simclr)`);
  const existing = statSync(dir, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory()) throw new Error(`--out ${out}: a file, not a folder`);
}

function readOwner(lock: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(lock, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}

export interface RunLock {
  /** the run folder */
  readonly dir: string;
  release(): void;
}

export interface ClaimOptions {
  /** continue the run already there */
  resume?: boolean;
  /** replace the run already there: its run files are removed */
  overwrite?: boolean;
}

/**
 * Takes the run folder `out` for this process (creating it); see the module comment. Claims by a
 * process that already holds the folder are counted, and the lock goes at the last release.
 */
export function claimRunFolder(out: string, o: ClaimOptions = {}): RunLock {
  checkRunOutput(out);
  mkdirSync(out, { recursive: true });
  const dir = realFolder(out);
  const mine = held.get(dir);
  if (mine) {
    mine.claims++;
    return { dir: out, release: () => releaseClaim(dir) };
  }
  const lock = join(dir, LOCK_FILE);
  takeLock(lock, out);
  held.set(dir, { path: lock, claims: 1 });
  try {
    if (isRunFolder(dir) && !o.resume) {
      if (!o.overwrite) {
        throw new Error(`--out ${out} already holds a run (${existsSync(join(dir, CHECKPOINT_FILE)) ? 'a checkpoint' : 'metrics'}): ` +
          'pass --resume to continue it, --overwrite to replace it, or choose another --out');
      }
      for (const name of RUN_FILES) if (name !== LOCK_FILE) rmSync(join(dir, name), { recursive: true, force: true });
    }
    for (const name of RUN_FILES) removeStaleTemporaries(join(dir, name));
  } catch (error) {
    releaseClaim(dir);
    throw error;
  }
  return { dir: out, release: () => releaseClaim(dir) };
}

/** Creates `lock` with this process as its owner, atomically (a link of a complete file), taking over a dead owner's. */
function takeLock(lock: string, out: string): void {
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const draft = `${lock}.${process.pid}`;
  const fd = openSync(draft, 'w', 0o644);
  writeSync(fd, JSON.stringify(me) + '\n');
  closeSync(fd);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(draft, lock);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`--out ${out}: cannot create its lock ${lock}: ${(error as Error).message}`);
      }
      const owner = readOwner(lock);
      const stale = owner !== null && owner.host === me.host && owner.pid !== process.pid && !isProcessRunning(owner.pid);
      if (!stale) {
        const who = owner ? `process ${owner.pid} on ${owner.host} (since ${owner.started})` : 'another process (its lock file is unreadable)';
        throw new Error(`--out ${out} is in use by ${who}: one run folder takes one training process. ` +
          `Wait for it, choose another --out, or, if that process is gone, remove ${lock}`);
      }
      // A dead process's lock: moved aside atomically, so of two processes taking it over only one succeeds.
      try {
        renameSync(lock, `${lock}.stale-${owner.pid}`);
        rmSync(`${lock}.stale-${owner.pid}`, { force: true });
      } catch {
        // another process took it over first: try again, and meet its live lock
      }
    }
    throw new Error(`--out ${out}: could not take its lock ${lock}`);
  } finally {
    rmSync(draft, { force: true });
  }
}

function releaseClaim(dir: string): void {
  const mine = held.get(dir);
  if (!mine || --mine.claims > 0) return;
  held.delete(dir);
  if (readOwner(mine.path)?.pid === process.pid) rmSync(mine.path, { force: true });
}

// A process that ends without releasing (an uncaught error, process.exit) leaves no lock behind.
process.on('exit', () => {
  for (const dir of [...held.keys()]) {
    held.get(dir)!.claims = 1;
    releaseClaim(dir);
  }
});

/** Whether this process holds the run folder `dir`. */
export function holdsRunFolder(dir: string): boolean {
  return held.has(realFolder(dir));
}

/**
 * Refuses to write `path` when it is one of a run's own files (checkpoint, metrics, config, ...)
 * in a trainer's run folder that this process does not hold: only the run's training writes them.
 */
export function refuseRunFile(path: string): void {
  const name = basename(path);
  if (!(RUN_FILES as readonly string[]).includes(name)) return;
  const dir = realFolder(dirname(resolve(path)));
  // a trainer's run folder: it logs metrics, or it is being trained (a user's own loop may name its file checkpoint.safetensors)
  if (held.has(dir) || !(existsSync(join(dir, METRICS_FILE)) || existsSync(join(dir, LOCK_FILE)))) return;
  throw new Error(`${path}: that is the ${name} of the run in ${dirname(path) || '.'}, which only its training writes; choose another output path`);
}
