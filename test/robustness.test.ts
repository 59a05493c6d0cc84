// No input from JavaScript may abort the process: every exported op is called with a grid
// of wrong arguments (types, shapes, dtypes, disposed tensors, NaN, empty tensors) and must
// either return or throw an Error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getNumThreads } from '../src/tensor/index.js';
import { native, untypedNative as untyped } from '../src/tensor/native.js';

const SETTINGS = new Set(['setNumThreads', 'manualSeed']); // process-wide state the rest of the suite relies on

function freeAll(result: unknown): void {
  for (const x of Array.isArray(result) ? result : [result]) {
    try {
      native.dispose(x);
    } catch {
      // not a tensor
    }
  }
}

test('every op survives a grid of bad arguments', () => {
  const threads = getNumThreads();
  const ops = Object.keys(native).filter((name) => !SETTINGS.has(name));
  assert.ok(ops.length > 200, `${ops.length} ops exported`);
  let calls = 0;
  let errors = 0;
  for (const name of ops) {
    const disposed = native.ones([2]);
    native.dispose(disposed);
    const f = native.ones([2, 3]);
    const i = native.zeros([3], 'int64');
    const s = native.scalarTensor(NaN);
    const img = native.rand([1, 2, 4, 4]);
    const empty = native.zeros([0]);
    const values: unknown[] = [undefined, null, 0, -1, 2.5, NaN, 'x', [], [2, 3], [-7, 1], {}, true, f, i, s, img, empty, disposed, [f, i]];
    for (const a of values) {
      for (const b of values) {
        calls++;
        try {
          freeAll(untyped[name](a, b));
        } catch (error) {
          errors++;
          assert.ok(error instanceof Error, `${name} threw a non-Error`);
          assert.ok(error.message.startsWith(`${name}(`), `${name}: message names the op: ${error.message}`);
        }
      }
    }
    for (const t of [f, i, s, img, empty]) freeAll(t);
  }
  assert.equal(getNumThreads(), threads);
  assert.ok(errors > calls / 2, `${errors} of ${calls} calls refused`);
});
