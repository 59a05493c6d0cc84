// Autograd semantics: accumulation, no-grad, retained graphs, functional and double gradients.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enableGrad, gradients, isGradEnabled, noGrad, ones, tensor, zeros } from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('autograd', () => {
  test('backward fills .grad of leaves and accumulates until cleared', () => {
    const x = tensor([1, 2, 3]).requiresGrad_();
    assert.ok(x.isLeaf && x.requiresGrad);
    x.mul(x).sum().backward();
    assertClose(x.grad!.toArray(), [2, 4, 6]);
    x.mul(x).sum().backward();
    assertClose(x.grad!.toArray(), [4, 8, 12]);
    x.zeroGrad(false);
    assertClose(x.grad!.toArray(), [0, 0, 0]);
    x.zeroGrad();
    assert.equal(x.grad, null);
  });
  test('non-scalar backward takes a gradient; retainGraph allows a second pass', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = x.pow(2); // saves x for backward, so the graph is freed after a pass
    y.backward(tensor([1, 10]), { retainGraph: true });
    assertClose(x.grad!.toArray(), [2, 40]);
    y.backward(tensor([1, 1]));
    assertClose(x.grad!.toArray(), [4, 44]);
    assert.throws(() => y.backward(tensor([1, 1])), /backward through the graph a second time/);
  });
  test('noGrad records nothing; enableGrad re-enables inside it; detach cuts the graph', () => {
    const x = tensor([1]).requiresGrad_();
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      const inner = enableGrad(() => x.mul(2));
      assert.ok(inner.requiresGrad);
      return x.mul(2);
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.requiresGrad, false);
    assert.equal(x.mul(2).detach().requiresGrad, false);
    assert.throws(() => noGrad(() => { throw new Error('inside'); }), /inside/);
    assert.equal(isGradEnabled(), true, 'grad mode restored after an exception');
  });
  test('gradients(): functional gradients and double backward', () => {
    const x = tensor([2, -1]).requiresGrad_();
    const y = x.pow(3).sum();
    const [dx] = gradients([y], [x], { createGraph: true });
    assertClose(dx!.toArray(), [12, 3]);               // 3x^2
    const [ddx] = gradients([dx!.sum()], [x]);
    assertClose(ddx!.toArray(), [12, -6]);             // 6x
    assert.equal(x.grad, null, 'gradients() leaves .grad alone');
    const unused = tensor([1]).requiresGrad_();
    assert.deepEqual(gradients([x.sum()], [unused], { allowUnused: true }), [null]);
  });
  test('grad of a non-leaf needs retainGrad; grad can be set', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const h = x.mul(2);
    h.retainGrad();
    h.sum().backward();
    assertClose(h.grad!.toArray(), [1, 1]);
    x.grad = ones([2]).mul(5);
    assertClose(x.grad!.toArray(), [5, 5]);
  });
  test('in-place optimizer updates under noGrad: SGD, momentum, Adam-style, EMA', () => {
    const p = tensor([1, 2]).requiresGrad_();
    p.mul(p).sum().backward(); // grad = [2, 4]
    noGrad(() => {
      const buf = zeros([2]);
      buf.mul_(0.9).add_(p.grad!).add_(p, 0.5);        // momentum with weight decay 0.5
      assertClose(buf.toArray(), [2.5, 5]);
      p.sub_(buf, 0.1);
      assertClose(p.toArray(), [0.75, 1.5]);
      const v = tensor([4, 16]);
      const q = tensor([1, 1]);
      q.addcdiv_(tensor([2, 2]), v.clone().sqrt_(), -1);  // q - 2 / sqrt(v)
      assertClose(q.toArray(), [0, 0.5]);
      q.addcmul_(tensor([2, 3]), tensor([1, 2]), 0.5);
      assertClose(q.toArray(), [1, 3.5]);
      const teacher = tensor([0, 10]);
      teacher.lerp_(tensor([10, 0]), 0.1);                 // EMA toward the student
      assertClose(teacher.toArray(), [1, 9]);
      assertClose(tensor([1, -5, 7]).clamp_(-1, 2).toArray(), [1, -1, 2]);
      assertClose(tensor([1, 2]).fill_(3).toArray(), [3, 3]);
      assertClose(tensor([1, 2]).copy_(tensor([5, 6])).toArray(), [5, 6]);
      assertClose(tensor([1, 2]).maskedFill_(tensor([0, 1], { dtype: 'bool' }), 0).toArray(), [1, 0]);
      assertClose(tensor([1, 2]).mul_(tensor([3, 4])).div_(2).pow_(2).toArray(), [2.25, 16]);
    });
    assert.ok(p.requiresGrad, 'an in-place update keeps the leaf trainable');
  });
});
