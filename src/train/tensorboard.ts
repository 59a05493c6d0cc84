/**
 * TensorBoard event files, written directly: TFRecord framing (length, masked CRC-32C of the
 * length, an Event protocol buffer, masked CRC-32C of the data) with scalar summaries, the
 * format `tensorboard --logdir runs/` reads. Only what scalars need is encoded: Event {wall_time,
 * step, file_version | summary { value { tag, simple_value } } }.
 *
 * ```ts
 * const tb = new TensorBoardWriter('runs/a');
 * tb.scalar('loss', 4.2, step);
 * tb.close();
 * ```
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** A minimal protocol-buffer writer: varints, 64-bit doubles, 32-bit floats, length-delimited fields. */
class ProtoWriter {
  private parts: number[] = [];
  private varint(v: bigint | number): void {
    let x = BigInt(v);
    if (x < 0n) x += 1n << 64n;
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) byte |= 0x80;
      this.parts.push(byte);
    } while (x > 0n);
  }
  private key(field: number, wire: number): void { this.varint((field << 3) | wire); }
  int64(field: number, v: number): this { this.key(field, 0); this.varint(v); return this; }
  double(field: number, v: number): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(...b);
    return this;
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.parts.push(...b);
    return this;
  }
  bytes(field: number, v: Uint8Array): this { this.key(field, 2); this.varint(v.length); this.parts.push(...v); return this; }
  string(field: number, v: string): this { return this.bytes(field, Buffer.from(v, 'utf8')); }
  finish(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** One TFRecord: framing around `data`. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

export class TensorBoardWriter {
  readonly path: string;
  private fd: number;

  constructor(folder: string) {
    mkdirSync(folder, { recursive: true });
    this.path = join(folder, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}.${process.pid}`);
    this.fd = openSync(this.path, 'a');
    this.write(new ProtoWriter().double(1, Date.now() / 1000).string(3, 'brain.Event:2').finish());
  }

  /** Appends scalars (tag -> value) at `step`. */
  scalars(values: Record<string, number>, step: number): void {
    const summary = new ProtoWriter();
    for (const [tag, value] of Object.entries(values)) {
      if (!Number.isFinite(value)) continue;
      summary.bytes(1, new ProtoWriter().string(1, tag).float(2, value).finish());
    }
    this.write(new ProtoWriter().double(1, Date.now() / 1000).int64(2, step).bytes(5, summary.finish()).finish());
  }

  scalar(tag: string, value: number, step: number): void {
    this.scalars({ [tag]: value }, step);
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private write(event: Uint8Array): void {
    writeSync(this.fd, tfRecord(event));
  }
}
