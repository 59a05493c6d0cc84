// Deterministic memory: scopes free what they do not return; the live count proves it.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, test } from 'node:test';
import { dispose, keep, liveTensors, ones, pipe, tidy, type Tensor } from '../src/tensor/index.js';
import { Layer, Linear } from '../src/nn/index.js';
import { SSLMethod, type MethodStep } from '../src/methods/index.js';

describe('tidy scopes', () => {
  test('frees intermediates and keeps the result', () => {
    const before = liveTensors();
    const result = tidy(() => {
      const a = ones([3]);
      const b = a.add(1).mul(2);
      return b.sum();
    });
    assert.equal(liveTensors(), before + 1);
    assert.equal(result.item(), 12);
    result.dispose();
    assert.equal(liveTensors(), before);
  });
  test('keeps tensors nested in arrays and objects, and hands them to the parent scope', () => {
    const before = liveTensors();
    const outer = tidy(() => {
      const inner = tidy(() => {
        const a = ones([2]);
        ones([5]); // dropped
        return { pair: [a, a.add(1)], label: 'x' };
      });
      assert.equal(liveTensors(), before + 2);
      return inner.pair[1];
    });
    assert.equal(liveTensors(), before + 1, 'the inner result not returned by the outer scope is freed');
    outer.dispose();
    assert.equal(liveTensors(), before);
  });
  test('keep() exempts a tensor; dispose() frees containers of tensors', () => {
    const before = liveTensors();
    let kept: Tensor | undefined;
    tidy(() => {
      kept = keep(ones([1]));
      ones([1]);
    });
    assert.equal(liveTensors(), before + 1);
    assert.equal(kept!.item(), 1);
    dispose({ a: [kept] });
    assert.equal(liveTensors(), before);
    assert.ok(kept!.isDisposed);
    kept!.dispose(); // idempotent
  });
  test('an exception frees everything created in the scope', () => {
    const before = liveTensors();
    assert.throws(() => tidy(() => { ones([4]).add(1); throw new Error('boom'); }), /boom/);
    assert.equal(liveTensors(), before);
  });
  test('async functions are refused', () => {
    const before = liveTensors();
    assert.throws(() => tidy((async () => ones([1])) as unknown as () => Tensor), /Promise/);
    assert.equal(liveTensors(), before);
  });
  test('pipe() disposes intermediates but never its input', () => {
    const x = ones([2]);
    const before = liveTensors();
    const y = pipe(x, (t) => t.add(1), (t) => t.mul(3), (t) => t.sum());
    assert.equal(liveTensors(), before + 1);
    assert.equal(y.item(), 12);
    assert.ok(!x.isDisposed);
    x.dispose();
    y.dispose();
  });
  test('gradients survive disposal of the forward handles (autograd keeps its own references)', () => {
    const w = ones([3]).requiresGrad_();
    const loss = tidy(() => pipe(w, (t) => t.mul(2), (t) => t.exp(), (t) => t.sum()));
    loss.backward();
    assert.ok(Math.abs((w.grad!.toArray() as number[])[0] - 2 * Math.exp(2)) < 1e-4);
    loss.dispose();
  });
});

describe('forward passes and method steps are scoped by their base classes (no tidy in their bodies)', () => {
  class Affine extends Layer {
    readonly fc = this.registerModule('fc', new Linear(3, 2));
    forward(x: Tensor): Tensor {
      const h = this.fc.forward(x.mul(2));
      return h.add(1).relu();
    }
    forwardTwice(x: Tensor): Tensor[] {
      return [this.forward(x), this.forward(x.neg())];
    }
    forwardFailing(x: Tensor): Tensor {
      x.mul(3);
      throw new Error('on purpose');
    }
  }
  class Wider extends Affine {
    override forward(x: Tensor): Tensor {
      return super.forward(x).mul(x.sum());
    }
  }
  class Toy extends SSLMethod {
    readonly backbone = this.registerModule('backbone', new Affine());
    step([a]: Tensor[]): MethodStep {
      const z = this.backbone.forward(a);
      return { loss: z.square().mean(), embeddings: [z.detach(), z.detach()] };
    }
  }

  test('what forward, forward* and step make is freed when they return, except their results', () => {
    const x = ones([4, 3]);
    const before = liveTensors();
    for (const net of [new Affine(), new Wider()]) {
      const params = net.parameters().length;
      const start = liveTensors();
      const y = net.forward(x);
      assert.equal(liveTensors(), start + 1, `${net.constructor.name}.forward leaves its result only`);
      const both = net.forwardTwice(x);
      assert.equal(liveTensors(), start + 3);
      assert.throws(() => net.forwardFailing(x), /on purpose/);
      assert.equal(liveTensors(), start + 3, 'a forward that throws frees what it made');
      dispose([y, ...both]);
      net.dispose();
      assert.equal(liveTensors(), start - params);
    }
    const toy = new Toy();
    const start = liveTensors();
    const out = toy.step([x]);
    assert.equal(liveTensors(), start + 3, 'the loss and the two embeddings');
    assert.ok(Number.isFinite(out.loss.item()));
    dispose([out.loss, out.embeddings]);
    toy.dispose();
    assert.equal(liveTensors(), before);
    x.dispose();
  });

  test('scoped once per class: a second instance does not wrap again', () => {
    const forward = Affine.prototype.forward;
    new Affine().dispose();
    assert.equal(Affine.prototype.forward, forward);
    assert.equal(Affine.prototype.forward.name, 'forward');
  });
});

describe('garbage-collection safety net', () => {
  test('an unowned tensor that is dropped is freed when collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const before = liveTensors();
    (() => { for (let i = 0; i < 10; i++) ones([1000]); })(); // made outside any scope and dropped
    assert.equal(liveTensors(), before + 10);
    for (let round = 0; round < 20 && liveTensors() > before; round++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10)); // FinalizationRegistry callbacks run between tasks
    }
    assert.ok(liveTensors() <= before, `${liveTensors() - before} of the 10 dropped tensors still live`);
  });
});
