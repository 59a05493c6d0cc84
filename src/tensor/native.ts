/**
 * Loads the libtorch addon (native/build/Release/selfsup.node).
 *
 * The addon exports one function per op; each takes opaque tensor handles and plain
 * values and throws an Error naming the op and its inputs when libtorch refuses.
 * Only the tensor layer talks to it: everything else uses {@link Tensor}. Its types
 * (nativeOps.generated.ts) are written from the signatures the C++ ops declare
 * (native/signatures.cjs), so a call with arguments in the wrong order or of the wrong
 * kind does not compile.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { NativeOps } from './nativeOps.generated.js';

/** An opaque libtorch tensor owned by JavaScript. */
export type NativeHandle = { readonly __brand: 'selfsup.NativeHandle' };
/** An opaque libtorch random generator. */
export type NativeGenerator = { readonly __brand: 'selfsup.NativeGenerator' };


function findAddon(): string {
  if (process.env.SELFSUP_ADDON) return process.env.SELFSUP_ADDON;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'native', 'build', 'Release', 'selfsup.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  // a clone builds it with `npm run setup`; an installed package with its install script (native/install.cjs)
  const installed = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));   // <package>/dist/src/tensor
  const clone = existsSync(join(installed, 'src')) && existsSync(join(installed, 'tsconfig.json'));
  throw new Error(`selfsup: native addon not built (${join(installed, 'native', 'build', 'Release', 'selfsup.node')} is missing): `
    + (clone ? 'run `npm run setup`' : 'run `npm rebuild selfsup` in your project (add --ignore-scripts=false where install scripts are off); '
      + 'it needs libtorch: apt-get install libtorch-dev libopenblas0-openmp, or LIBTORCH=<a PyTorch install\'s torch folder>'));
}

export const native = createRequire(import.meta.url)(findAddon()) as NativeOps;
/** The same addon without its types, for calls by a computed name or made wrong on purpose (tests, the op profile). */
export const untypedNative = native as unknown as Record<string, (...args: unknown[]) => unknown>;

// SELFSUP_DEVICE=cuda: the main thread's default device (loader worker threads stay on the CPU).
if (isMainThread && process.env.SELFSUP_DEVICE) native.setDefaultDevice(process.env.SELFSUP_DEVICE);
