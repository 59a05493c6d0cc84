/**
 * Writes a file so that a crash at any moment leaves either the old file or the new one,
 * never a half-written one: write to a temporary file beside it, fsync, rename over the
 * target, fsync the folder. A run's own files are refused unless this process trains that run
 * (see runFolder.ts).
 *
 * ```ts
 * atomicWriteFile('runs/a/checkpoint.safetensors', [header, ...buffers]);
 * ```
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isProcessRunning } from './processes.js';
import { refuseRunFile } from './runFolder.js';

const temporaryName = (path: string, pid: number) => `.${basename(path)}.tmp-${pid}`;

export function atomicWriteFile(path: string, chunks: Uint8Array[]): void {
  refuseRunFile(path);
  const temp = join(dirname(path), temporaryName(path, process.pid));
  let fd = -1;
  try {
    fd = openSync(temp, 'w', 0o644);
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.byteLength) offset += writeSync(fd, chunk, offset, chunk.byteLength - offset);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temp, path);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    rmSync(temp, { force: true });
    throw new Error(`could not write ${path}: ${(error as Error).message}`);
  }
  try {
    const dir = openSync(dirname(path), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // some file systems cannot fsync a folder; the rename itself is still atomic
  }
}

/**
 * Removes the temporary files that writers of `path` killed mid-write left beside it (those of
 * processes no longer running); returns how many. The file at `path` itself is never touched.
 */
export function removeStaleTemporaries(path: string): number {
  const dir = dirname(path);
  if (!existsSync(dir)) return 0;
  const prefix = temporaryName(path, 0).slice(0, -1);
  let removed = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid === process.pid || isProcessRunning(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

/** `text` as a UTF-8 file, atomically (reports, tables). */
export function writeTextFile(path: string, text: string): void {
  atomicWriteFile(path, [Buffer.from(text, 'utf8')]);
}
