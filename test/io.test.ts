// safetensors: byte layout, round trips, clear errors on bad files, atomic writes, and
// weights that torchvision loads (checked with Debian's python3-torch).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { readSafetensors, writeSafetensors } from '../src/io/index.js';
import { resnet18, vitTiny } from '../src/models/index.js';
import { Generator, noGrad, randn, tensor, type DType } from '../src/tensor/index.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-io-'));

/** Runs a checker from test/fixtures with Debian's python3-torch on weights and an input/output pair. */
function checkInPyTorch(script: string, weights: string, io: string): { max_abs_diff: number; metadata: Record<string, string> } {
  const path = fileURLToPath(new URL(`../../test/fixtures/${script}`, import.meta.url));
  return JSON.parse(execFileSync('/usr/bin/python3', [path, weights, io], { encoding: 'utf8' }));
}

describe('safetensors', () => {
  test('byte layout: u64 header length, space-padded JSON, raw little-endian data', () => {
    const path = join(dir, 'layout.safetensors');
    writeSafetensors(path, { a: tensor([1, 2], { dtype: 'float32' }) }, { note: 'x' });
    const bytes = readFileSync(path);
    const length = Number(bytes.readBigUInt64LE(0));
    assert.equal(length % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString());
    assert.deepEqual(header, { __metadata__: { note: 'x' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    assert.deepEqual([...bytes.subarray(8 + length)], [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]); // 1.0f, 2.0f
  });
  test('every dtype round-trips with its shape and metadata', () => {
    const path = join(dir, 'all.safetensors');
    const dtypes: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
    const source = new Map(dtypes.map((d) => [d, tensor([[1, 0, 2], [3, 1, 0]], { dtype: d })]));
    source.set('empty' as DType, tensor([], { dtype: 'float32' }));
    writeSafetensors(path, source, { arch: 'test' });
    const { tensors, metadata } = readSafetensors(path);
    assert.deepEqual(metadata, { arch: 'test' });
    for (const [name, t] of source) {
      const back = tensors.get(name)!;
      assert.equal(back.dtype, t.dtype, name);
      assert.deepEqual(back.shape, t.shape, name);
      assert.ok(back.equal(t), name);
    }
    assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp-')), 'no temporary file left behind');
  });
  test('bad files give an error naming the file and the problem', () => {
    const good = readFileSync(join(dir, 'all.safetensors'));
    const cases: [string, Buffer, RegExp][] = [
      ['short', Buffer.from([1, 2, 3]), /too short/],
      ['huge-header', Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), Buffer.alloc(8)]), /header length 4294967295 exceeds/],
      ['not-json', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{abc')]), /not JSON/],
      ['truncated', good.subarray(0, good.byteLength - 5), /outside the .* data bytes \(truncated file\?\)/],
      ['png', Buffer.from('\x89PNG\r\n\x1a\n0000000000000000', 'latin1'), /exceeds the file|not JSON/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const path = join(dir, `${name}.safetensors`);
      writeFileSync(path, bytes);
      assert.throws(() => readSafetensors(path), (e: Error) => e.message.startsWith(path) && pattern.test(e.message), name);
    }
    assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read \(ENOENT\)/);
    const badDtype = Buffer.from(JSON.stringify({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }).padEnd(48));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(badDtype.byteLength));
    writeFileSync(join(dir, 'dtype.safetensors'), Buffer.concat([length, badDtype, Buffer.alloc(8)]));
    assert.throws(() => readSafetensors(join(dir, 'dtype.safetensors')), /tensor 'a' has unsupported dtype "C64"/);
  });
  test('ResNet-18 weights load into torchvision and give the same outputs (python3-torch)', () => {
    const net = resnet18({ stem: 'cifar', numClasses: 10, generator: new Generator(0) });
    noGrad(() => net.parameters().forEach((p) => p.add_(randn(p.shape as number[], { generator: new Generator(1) }).mul(0.01)))); // not only the init
    net.train().forward(randn([8, 3, 32, 32], { generator: new Generator(2) })); // move the BN running statistics
    net.eval();
    const input = randn([2, 3, 32, 32], { generator: new Generator(3) });
    const output = net.forward(input);
    const weights = join(dir, 'resnet18.safetensors');
    const io = join(dir, 'io.safetensors');
    writeSafetensors(weights, net.stateDict(), { arch: 'resnet18', stem: 'cifar' });
    writeSafetensors(io, { input, output });
    const result = checkInPyTorch('check_torchvision_resnet.py', weights, io);
    assert.deepEqual(result.metadata, { arch: 'resnet18', stem: 'cifar' });
    assert.ok(result.max_abs_diff < 1e-5, `max |selfsup - torchvision| = ${result.max_abs_diff}`);
    net.dispose();
  });
  test('ViT weights load into a timm-shaped PyTorch ViT and give the same outputs (python3-torch)', () => {
    const vit = vitTiny({ imageSize: 32, patchSize: 4, depth: 2, numClasses: 10, generator: new Generator(4) }).eval();
    const input = randn([2, 3, 32, 32], { generator: new Generator(5) });
    const output = vit.forward(input);
    const weights = join(dir, 'vit.safetensors');
    const io = join(dir, 'vit-io.safetensors');
    writeSafetensors(weights, vit.stateDict(), { arch: 'vit_tiny', heads: '3' });
    writeSafetensors(io, { input, output });
    const result = checkInPyTorch('check_timm_vit.py', weights, io);
    assert.ok(result.max_abs_diff < 1e-5, `max |selfsup - PyTorch| = ${result.max_abs_diff}`);
    vit.dispose();
  });
});
