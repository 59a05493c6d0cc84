// The error contract: bad calls throw an Error naming the op and its inputs; the process survives.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Tensor, batchNorm, cat, conv2d, crossEntropy, cuda, defaultDevice, dropout, embedding, interpolate, linear, ones, rand, setDefaultDevice, tensor, zeros,
  type DType, type Device,
} from '../src/tensor/index.js';
import { native, untypedNative as untyped } from '../src/tensor/native.js';

/** Asserts fn throws an Error whose message starts with `op(` and matches `pattern`. */
function refuses(fn: () => unknown, op: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Error, 'an Error');
    assert.ok(error.message.startsWith(`${op}(`), `message names the op: ${error.message}`);
    assert.match(error.message, pattern);
    assert.equal((error as Error & { op?: string }).op, op);
    return true;
  });
}

describe('errors name the op, the inputs and the reason', () => {
  test('wrong shapes', () => {
    refuses(() => ones([2, 3]).matmul(ones([2, 3])), 'matmul', /float32\[2, 3\], float32\[2, 3\].*cannot be multiplied/);
    refuses(() => ones([2, 3]).view(4), 'view', /shape '\[4\]' is invalid/);
    refuses(() => cat([ones([2, 3]), ones([2, 4])], 0), 'cat', /Sizes of tensors must match/);
    refuses(() => conv2d(ones([1, 3, 8, 8]), ones([4, 2, 3, 3])), 'conv2d', /expected input.*to have 2 channels/);
    refuses(() => linear(ones([2, 5]), ones([3, 4])), 'linear', /cannot be multiplied/);
    refuses(() => ones([2]).add(ones([3])), 'add', /size of tensor a \(2\) must match/);
    refuses(() => batchNorm(ones([2, 3]), { runningMean: zeros([4]), runningVar: ones([4]), training: false }), 'batchNorm', /running_mean should contain 3 elements/);
    refuses(() => interpolate(ones([3, 8, 8]), 4), 'interpolate', /4-D input/);
    refuses(() => ones([3]).backward(), 'backward', /does not require grad/);
    refuses(() => ones([3]).requiresGrad_().mul(2).backward(), 'backward', /needs a gradient argument/);
    refuses(() => ones([3]).item(), 'item', /one element/);
    // exp saves its output for backward; changing it in place must be caught, not silently wrong
    refuses(() => ones([3]).requiresGrad_().exp().add_(1).sum().backward(), 'backward', /modified by an inplace operation/);
  });
  test('wrong dtypes', () => {
    refuses(() => ones([2, 2]).matmul(ones([2, 2], { dtype: 'int64' })), 'matmul', /expected .*(same dtype|scalar type)|dtype/i);
    refuses(() => ones([3]).indexSelect(0, ones([1])), 'indexSelect', /index_select.*Long|Int|IntTensor|LongTensor/i);
    refuses(() => crossEntropy(ones([2, 3]), ones([2], { dtype: 'int32' })), 'crossEntropy', /Int|Long|expected/i);
    assert.throws(() => zeros([2], { dtype: 'complex64' as DType }), /unknown dtype 'complex64'/);
    assert.throws(() => zeros([2], { device: 'tpu' as Device }), /unknown device 'tpu'/);
  });
  test('out-of-range indices are errors, not memory reads', () => {
    const idx = (v: number[]) => tensor(v, { dtype: 'int64' });
    refuses(() => ones([3]).indexSelect(0, idx([3])), 'indexSelect', /out of range/);
    refuses(() => ones([3]).indexSelect(0, idx([-4])), 'indexSelect', /out of range/);
    refuses(() => ones([2, 2]).gather(1, idx([[5]] as unknown as number[]).view(1, 1)), 'gather', /out of bounds/);
    refuses(() => zeros([3]).scatter(0, idx([9]), ones([1])), 'scatter', /out of bounds/);
    refuses(() => embedding(ones([4, 2]), idx([4])), 'embedding', /out of range/);
    refuses(() => idx([5]).oneHot(3), 'oneHot', /smaller than num_classes/);
    refuses(() => crossEntropy(ones([1, 3]), idx([3])), 'crossEntropy', /out of bounds|Target 3/);
    refuses(() => ones([2, 3]).select(1, 3), 'select', /out of range/);
    refuses(() => ones([2, 3]).transpose(0, 2), 'transpose', /out of range/);
    refuses(() => ones([2]).index([idx([2])]), 'index', /out of bounds/);
  });
  test('disposed tensors and wrong argument types', () => {
    const t = ones([2]);
    t.dispose();
    refuses(() => t.add(1), 'add', /argument 0: tensor was disposed/);
    refuses(() => ones([2]).add(t), 'add', /argument 1: tensor was disposed/);
    refuses(() => cat([ones([1]), t]), 'cat', /argument 0\[1\]: tensor was disposed/);
    assert.ok(t.isDisposed);
    assert.equal(String(t), 'Tensor(disposed)');
    refuses(() => untyped.matmul(ones([1]).handle, 'a string'), 'matmul', /argument 1: expected a Tensor, got string/);
    refuses(() => untyped.exp({}), 'exp', /expected a Tensor, got object/);
    refuses(() => untyped.rand([2], undefined, undefined, ones([1]).handle), 'rand', /argument 3: expected a Generator, got Tensor/);
    refuses(() => untyped.rngState(ones([1]).handle), 'rngState', /expected a Generator/);
    refuses(() => ones([2.5]), 'ones', /argument 0\[0\]: expected an integer/);
    refuses(() => zeros([-1]), 'zeros', /negative/i);
    refuses(() => tensor(new Float32Array(3), { shape: [2, 2] }), 'fromTypedArray', /3 elements do not fill shape of 4/);
    refuses(() => native.fromTypedArray(new Uint16Array(2), [2]), 'fromTypedArray', /typed array type not supported/);
    refuses(() => dropout(ones([2]), 1.5, true), 'dropout', /between 0 and 1/);
    assert.throws(() => ones([2]).size(3), RangeError);
  });
  test('CUDA requests without CUDA are errors', () => {
    if (cuda.isAvailable()) return;
    assert.equal(cuda.deviceCount(), 0);
    assert.throws(() => zeros([2], { device: 'cuda' }), /zeros\(.*(CUDA|cuda)/);
    assert.throws(() => ones([2]).to('cuda'), /to\(.*(CUDA|cuda)/);
    assert.throws(() => setDefaultDevice('cuda'), /setDefaultDevice\("cuda"\): device 'cuda': this libtorch has no CUDA/);
    assert.throws(() => setDefaultDevice('tpu' as never), /unknown device 'tpu'/);
    assert.equal(defaultDevice(), 'cpu', 'a refused device leaves the default as it was');
  });
  test('NaN and Inf flow through as values', () => {
    const x = tensor([NaN, 1, Infinity]);
    assert.ok(Number.isNaN(x.sum().item()));
    assert.ok(Number.isNaN(crossEntropy(tensor([[NaN, 0]]), tensor([0], { dtype: 'int64' })).item()));
    const [sorted] = x.sort();
    assert.deepEqual(sorted.toArray().toString(), [1, Infinity, NaN].toString()); // NaN sorts last, as PyTorch
    assert.equal(tensor([NaN]).isnan().all().item(), 1);
    const g = tensor([1]).requiresGrad_();
    g.mul(NaN).sum().backward();
    assert.ok(Number.isNaN((g.grad!.toArray() as number[])[0]));
  });
  test('the process is still healthy after all of the above', () => {
    assert.equal(rand([1000]).add(1).min().item() >= 1, true);
    assert.ok(ones([2]) instanceof Tensor);
  });
});
