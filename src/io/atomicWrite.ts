/**
 * Writes a file so that a crash at any moment leaves either the old file or the new one,
 * never a half-written one: write to a temporary file beside it, fsync, rename over the
 * target, fsync the folder.
 *
 * ```ts
 * atomicWriteFile('runs/a/checkpoint.safetensors', [header, ...buffers]);
 * ```
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function atomicWriteFile(path: string, chunks: Uint8Array[]): void {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
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
