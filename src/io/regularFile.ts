/**
 * Reading a file that someone else put there: only regular files are opened (links followed), so
 * a FIFO cannot block the reader forever and a link to /dev/zero cannot fill memory; a file larger
 * than `maxBytes` is refused before it is read. Refusals are Errors that say what the path is.
 *
 * ```ts
 * const bytes = await readRegularFile('photos/a.jpg', 512 * 2 ** 20);
 * const text = readRegularFileSync('runs/a/metrics.jsonl', 1 << 30).toString('utf8');
 * ```
 */
import { type Stats, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';

function kindOf(s: Stats): string {
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  if (s.isDirectory()) return 'a folder';
  return 'not a regular file';
}

function check(s: Stats, maxBytes: number): void {
  if (!s.isFile()) throw new Error(`${kindOf(s)}, not a regular file`);
  if (s.size > maxBytes) throw new Error(`${s.size} bytes: larger than the ${maxBytes} allowed`);
}

// O_NONBLOCK: should the path have become a FIFO since it was checked, opening it does not wait for a writer.
const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** The bytes of the regular file at `path`, refused with the reason when it is not one or is too large. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  check(await stat(path), maxBytes);
  const handle = await open(path, FLAGS);
  try {
    const st = await handle.stat();
    check(st, maxBytes);
    const bytes = Buffer.allocUnsafe(st.size);
    let read = 0;
    for (let n = -1; read < st.size && n !== 0; read += n) n = (await handle.read(bytes, read, st.size - read, read)).bytesRead;
    return bytes.subarray(0, read);   // shorter if the file shrank while read
  } finally {
    await handle.close();
  }
}

/** readRegularFile for synchronous callers (small files: metrics, configs, reports). */
export function readRegularFileSync(path: string, maxBytes: number): Buffer {
  check(statSync(path), maxBytes);
  const fd = openSync(path, FLAGS);
  try {
    const st = fstatSync(fd);
    check(st, maxBytes);
    const bytes = Buffer.allocUnsafe(st.size);
    let read = 0;
    for (let n = -1; read < st.size && n !== 0; read += n) n = readSync(fd, bytes, read, st.size - read, read);
    return bytes.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
