/**
 * The precision policy of training: 'fp32', 'bf16' (bfloat16 autocast: matrix products and
 * convolutions in bfloat16, reductions, losses, master weights and optimizer state in float32; no
 * loss scale, bfloat16 has float32's range), or 'auto', which picks bf16 where the hardware computes
 * it natively (CUDA; CPUs with AMX-BF16 or AVX512-BF16, read from /proc/cpuinfo at run time) and fp32
 * elsewhere, where bfloat16 would only be emulated.
 *
 * ```ts
 * resolvePrecision('auto', 'cpu');    // 'bf16' on a Xeon with AMX or a Zen 4/5, else 'fp32'
 * nativeBf16();                       // 'amx_bf16' | 'avx512_bf16' | null
 * ```
 */
import { readFileSync } from 'node:fs';
import type { Device } from './dtype.js';

export type Precision = 'auto' | 'fp32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['auto', 'fp32', 'bf16'];

let cpuFlags: Set<string> | undefined;

/** The CPU feature that makes bfloat16 fast here ('amx_bf16' or 'avx512_bf16'), or null. */
export function nativeBf16(): 'amx_bf16' | 'avx512_bf16' | null {
  if (cpuFlags === undefined) {
    let text = '';
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      // not Linux: no flags to read, so no claim of native bfloat16
    }
    const line = /^flags\s*:(.*)$/m.exec(text);
    cpuFlags = new Set(line ? line[1].trim().split(/\s+/) : []);
  }
  if (cpuFlags.has('amx_bf16')) return 'amx_bf16';
  if (cpuFlags.has('avx512_bf16')) return 'avx512_bf16';
  return null;
}

/** The precision `auto` means on `device`, or the one asked for. */
export function resolvePrecision(precision: Precision, device: Device | string = 'cpu'): 'fp32' | 'bf16' {
  if (precision !== 'auto') return precision;
  return device.startsWith('cuda') || nativeBf16() !== null ? 'bf16' : 'fp32';
}

/** One line for logs: what runs in which precision, and why. */
export function describePrecision(precision: Precision, device: Device | string = 'cpu'): string {
  const resolved = resolvePrecision(precision, device);
  const why = precision !== 'auto' ? 'as asked'
    : device.startsWith('cuda') ? 'auto: CUDA'
    : nativeBf16() ? `auto: this CPU has ${nativeBf16()}` : 'auto: this CPU has neither AMX-BF16 nor AVX512-BF16';
  return resolved === 'bf16' ? `bfloat16 autocast (${why}; weights and optimizer state in float32)` : `float32 (${why})`;
}
