// The typed native boundary: every C++ op declares its signature (native/src), its body reads its
// arguments as declared, the addon registers exactly those ops with those signatures, the TypeScript
// surface (src/tensor/nativeOps.generated.ts) is what the signatures give, and a call with more
// arguments than declared is refused.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { native } from '../src/tensor/native.js';
import { zeros } from '../src/tensor/index.js';

interface Op { name: string; signature: string; file: string }
const signatures = createRequire(import.meta.url)('../../native/signatures.cjs') as {
  parseOps(files?: string[]): Op[];
  checkBodies(ops?: Op[]): string[];
  generate(ops?: Op[]): string;
  GENERATED: string;
};

describe('the op table (native/signatures.cjs)', () => {
  test('every body reads its arguments as its signature declares', () => {
    assert.deepEqual(signatures.checkBodies(), []);
  });

  test('the addon registers the ops of the sources, with the same signatures', () => {
    const fromSources = new Map(signatures.parseOps().map((op) => [op.name, op.signature]));
    const registered = native.opSignatures() as Record<string, string>;
    assert.ok(Object.keys(registered).length > 200, `${Object.keys(registered).length} ops registered`);
    assert.deepEqual(new Map(Object.entries(registered)), fromSources);
  });

  test('the generated TypeScript is up to date', () => {
    assert.equal(readFileSync(signatures.GENERATED, 'utf8'), signatures.generate(), 'run npm run build:ts');
  });

  test('a body that disagrees with its signature is named, with the argument and what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-signatures-'));
    const file = join(dir, 'wrong.cc');
    writeFileSync(file, [
      'SELFSUP_REGISTER(wrong) {',
      '  def("view", "tensor, int -> tensor", [](Args& a) { return a.tensor(0).view(a.ints(1)); });',
      '  def("flatten", "tensor, int, int? -> tensor", [](Args& a) { return a.tensor(0).flatten(a.integerOr(1, 0), a.integerOr(2, -1)); });',
      '  def("linear", "tensor, tensor -> tensor", [](Args& a) { return at::linear(a.tensor(0), a.tensor(1), a.optTensor(2)); });',
      '  def("mean", "tensor, ints? -> tensor", [](Args& a) { return at::mean(a.tensor(0)); });',
      '  def("squeeze", "tensor, int -> tensor", [](Args& a) { return a.has(1) ? a.tensor(0).squeeze(a.integer(1)) : a.tensor(0).squeeze(); });',
      '  def("nllLoss", "tensor, tensor, int? -> tensor", [](Args& a) { return at::nll_loss(a.tensor(0), a.tensor(1), {}, reduction(a, 2)); });',
      '}',
    ].join('\n'));
    const problems = signatures.checkBodies(signatures.parseOps([file]));
    const about = (op: string) => problems.filter((p) => p.includes(`: ${op} (`)).join('\n');
    assert.match(about('view'), /a\.ints\(1\) reads argument 1 as ints, declared int/);
    assert.match(about('flatten'), /a\.integerOr\(1\) copes with a missing argument 1, declared required/);
    assert.match(about('linear'), /a\.optTensor\(2\) reads argument 2, the signature declares 2/);
    assert.match(about('mean'), /argument 1 is declared but never read/);
    assert.match(about('squeeze'), /asks about argument 1, declared as always there/);
    assert.match(about('nllLoss'), /reads argument 2 as string, declared int/);
    assert.equal(problems.length, 6, problems.join('\n'));
    // An op registered without a signature is refused outright.
    writeFileSync(file, 'def("neg", [](Args& a) { return at::neg(a.tensor(0)); });');
    assert.throws(() => signatures.parseOps([file]), /registered without a signature/);
  });
});

describe('the addon checks the calls it gets', () => {
  test('more arguments than the signature declares: a TypeError naming the op and its signature', () => {
    const t = zeros([2, 3]);
    const view = native.view as unknown as (...args: unknown[]) => unknown;
    assert.throws(() => view(t.handle, [3, 2], 1), (e: Error) => e instanceof TypeError && /^view\(.*\): expected at most 2 arguments \(tensor, ints -> tensor\), got 3/.test(e.message));
    // trailing undefined is the caller leaving an optional argument out
    native.dispose(view(t.handle, [3, 2], undefined));
    t.dispose();
  });
});
