// Export and import of backbones: ONNX graphs that onnxruntime-node runs to selfsup's outputs and
// python3-onnx's checker accepts, torchvision/timm-named safetensors that PyTorch loads from the
// description alone, weights written by PyTorch imported with a report, and the command line
// (export in three formats, the Node example on the exported folder, import, embed's JSON).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { gatherImages, openImages } from '../src/data/index.js';
import {
  ONNX_OPSET, backboneOnnxBytes, backboneToOnnx, decodeOnnxModel, describeBackbone, importBackboneWeights, writeBackboneSafetensors,
} from '../src/export/index.js';
import { readSafetensors, writeSafetensors } from '../src/io/index.js';
import { type BackboneSpec, ResNet, VisionTransformer, resnet18, resnet50, vitTiny } from '../src/models/index.js';
import type { Layer } from '../src/nn/index.js';
import { Generator, type Tensor, interpolate, noGrad, randn, tidy } from '../src/tensor/index.js';
import { applyView } from '../src/transforms/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const mini = join(root, 'test/fixtures/cifar10-mini');
const cli = join(root, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'selfsup-export-'));
const selfsup = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const NORMALIZE = { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Weights off their initialisation and batch-norm statistics moved, as after training; then eval mode. */
function trained<T extends Layer>(net: T, size: number): T {
  noGrad(() => {
    for (const p of net.parameters()) p.add_(randn(p.shape as number[], { generator: new Generator(7) }).mul(0.02));
    net.train().forward(randn([8, 3, size, size], { generator: new Generator(8) })).dispose();
  });
  return net.eval();
}

/** Real images (the CIFAR-10 fixture), normalised, at `size`: [N, 3, size, size]. */
async function realImages(count: number, size: number): Promise<Tensor> {
  const images = await openImages(mini, { size: 32 });
  return tidy(() => {
    const x = applyView(gatherImages(images, Array.from({ length: count }, (_, i) => i * 4)), { size: 32, crop: 'resize', normalize: NORMALIZE });
    return size === 32 ? x : interpolate(x, size, 'bilinear');
  });
}

const spec = (name: BackboneSpec['name'], imageSize: number, extra: Partial<BackboneSpec> = {}) =>
  ({ backboneSpec: { name, imageSize, ...extra }, size: imageSize, normalize: NORMALIZE, method: 'test' });

describe('ONNX export', () => {
  const cases: [string, () => Layer, number][] = [
    ['ResNet-18, CIFAR stem', () => resnet18({ stem: 'cifar', width: 0.25, generator: new Generator(0) }), 32],
    ['ResNet-50 (bottlenecks), ImageNet stem with max-pool', () => resnet50({ stem: 'imagenet', width: 0.25, generator: new Generator(1) }), 64],
    ['ViT, cls token', () => vitTiny({ imageSize: 32, patchSize: 4, depth: 2, generator: new Generator(2) }), 32],
    ['ViT, mean pool, LayerScale, no qkv bias', () => vitTiny({ imageSize: 32, patchSize: 8, depth: 2, pool: 'mean', layerScale: 0.1, qkvBias: false, generator: new Generator(3) }), 32],
  ];
  const files: string[] = [];
  for (const [name, make, size] of cases) {
    test(`${name}: onnxruntime-node gives selfsup's embeddings to 1e-4 on real images, at batch sizes 1 and 6`, async () => {
      const net = trained(make(), size);
      const path = join(dir, `model-${files.length}.onnx`);
      writeFileSync(path, backboneToOnnx(net, { imageSize: size }));
      files.push(path);
      const session = await ort.InferenceSession.create(path);
      for (const n of [1, 6]) {
        const x = await realImages(n, size);
        const expected = noGrad(() => net.forward(x));
        const out = await session.run({ pixel_values: new ort.Tensor('float32', x.data() as Float32Array, [n, 3, size, size]) });
        assert.deepEqual(out.pooler_output.dims, expected.shape);
        const diff = maxAbsDiff(out.pooler_output.data as Float32Array, expected.data() as Float32Array);
        assert.ok(diff < 1e-4, `${name}, batch ${n}: max |onnxruntime - selfsup| = ${diff}`);
        const hidden = out.last_hidden_state.dims;
        assert.equal(hidden[0], n);
        if (net instanceof VisionTransformer) assert.deepEqual(hidden.slice(1), [1 + net.gridSize ** 2, net.dim]);
        if (net instanceof ResNet) assert.equal(hidden[1], net.featureDim);
        x.dispose();
        expected.dispose();
      }
      await session.release();
      net.dispose();
    });
  }
  test('the ONNX checker of python3-onnx accepts every graph (full check, with shape inference)', () => {
    assert.equal(files.length, cases.length, 'the export tests ran first');
    const script = 'import onnx, sys\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint("checked", len(sys.argv) - 1)';
    assert.equal(execFileSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8' }).trim(), `checked ${files.length}`);
  });
  test('the model: opset 17, IR 8, a symbolic batch, named inputs and outputs, the normalisation in its metadata', () => {
    const net = resnet18({ stem: 'cifar', width: 0.25, generator: new Generator(4) });
    const model = decodeOnnxModel(backboneOnnxBytes(net, describeBackbone(spec('resnet18', 32, { width: 0.25 }), net.featureDim, 'run.safetensors')));
    assert.equal(model.irVersion, 8);
    assert.deepEqual(model.opsetImport.map((o) => o.version), [ONNX_OPSET]);
    assert.deepEqual(model.graph.input.map((i) => i.name), ['pixel_values']);
    assert.deepEqual(model.graph.input[0].type.tensorType.shape.dim, [{ dimParam: 'batch' }, { dimValue: 3 }, { dimValue: 32 }, { dimValue: 32 }]);
    assert.deepEqual(model.graph.output.map((o) => o.name), ['pooler_output', 'last_hidden_state']);
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta.image_mean, NORMALIZE.mean.join(','));
    assert.equal(JSON.parse(meta['selfsup.backbone']).featureDim, 128);
    // every weight of the backbone is an initializer: 20 convolutions' weights, 20 batch norms x 4
    const names = new Set(model.graph.initializer.map((t) => t.name));
    for (const key of net.stateDict().keys()) if (!key.endsWith('num_batches_tracked')) assert.ok(names.has(key), key);
    net.dispose();
  });
  test('refuses what is not a backbone or does not fit, naming it', () => {
    const classifier = resnet18({ stem: 'cifar', width: 0.25, numClasses: 10 });
    assert.throws(() => backboneToOnnx(classifier, { imageSize: 32 }), /ResNet with a classifier \(fc\) is not a backbone/);
    const vit = vitTiny({ imageSize: 32, patchSize: 4, depth: 1 });
    assert.throws(() => backboneToOnnx(vit, { imageSize: 64 }), /position table is for 32 px images, not 64/);
    classifier.dispose();
    vit.dispose();
  });
});

describe('safetensors export and import', () => {
  test('exported ResNet (width 0.5) and ViT (mean pool, LayerScale) load into torchvision / timm-shaped PyTorch from the description alone (1e-5)', async () => {
    const cases: [string, Layer, ReturnType<typeof spec>][] = [
      ['resnet', resnet18({ stem: 'cifar', width: 0.5, generator: new Generator(5) }), spec('resnet18', 32, { width: 0.5 })],
      ['vit', vitTiny({ imageSize: 32, patchSize: 4, depth: 2, pool: 'mean', layerScale: 0.1, generator: new Generator(6) }), spec('vit_tiny', 32, { patchSize: 4, pool: 'mean', layerScale: 0.1 })],
    ];
    for (const [name, net, run] of cases) {
      trained(net, 32);
      const prefix = join(dir, `export-${name}`);
      const d = describeBackbone(run, net instanceof ResNet ? net.featureDim : (net as VisionTransformer).dim, 'run.safetensors');
      assert.deepEqual(writeBackboneSafetensors(prefix, net, d), [`${prefix}.safetensors`, `${prefix}.json`]);
      assert.equal(JSON.parse(readFileSync(`${prefix}.json`, 'utf8')).keys, name === 'vit' ? 'timm' : 'torchvision');
      const x = await realImages(4, 32);
      const output = noGrad(() => net.forward(x));
      writeSafetensors(`${prefix}-io.safetensors`, { input: x, output });
      const result = JSON.parse(execFileSync('/usr/bin/python3', [join(root, 'tools/selfsup_backbone.py'), `${prefix}.safetensors`, `${prefix}-io.safetensors`], { encoding: 'utf8' }));
      assert.ok(result.max_abs_diff < 1e-5, `${name}: max |PyTorch - selfsup| = ${result.max_abs_diff}`);
      assert.equal(result.parameters, net.parameters().reduce((n, p) => n + p.numel, 0));
      net.dispose();
    }
  });
  test('torchvision and timm-shaped weights written by PyTorch import with a report, and give PyTorch\'s outputs (1e-5)', () => {
    execFileSync('/usr/bin/python3', [join(root, 'test/fixtures/make_pytorch_weights.py'), dir]);
    const check = (net: Layer, weights: string, io: string) => {
      const { tensors } = readSafetensors(join(dir, weights));
      const report = importBackboneWeights(net.eval(), tensors);
      const { tensors: pair } = readSafetensors(join(dir, io));
      const diff = maxAbsDiff(noGrad(() => net.forward(pair.get('input')!)).data() as Float32Array, pair.get('output')!.data() as Float32Array);
      assert.ok(diff < 1e-5, `${weights}: max |selfsup - PyTorch| = ${diff}`);
      return { report, tensors };
    };
    const resnet = resnet18({ stem: 'cifar' });
    const { report, tensors } = check(resnet, 'torchvision-resnet18.safetensors', 'torchvision-resnet18-io.safetensors');
    assert.deepEqual(report.unexpected, ['fc.weight', 'fc.bias']);
    const everyTensor = tidy(() => resnet.stateDict().size); // 60 parameters and 60 batch-norm buffers
    assert.deepEqual([report.prefix, report.loaded, report.missing, report.mismatched], ['', everyTensor, [], []]);
    // the same weights under an SSL library's prefix, found without being told
    const prefixed = new Map([...tensors].map(([k, t]) => [`module.backbone.${k}`, t]));
    prefixed.set('module.projector.0.weight', tensors.get('fc.weight')!);
    const again = importBackboneWeights(resnet18({ stem: 'cifar' }), prefixed);
    assert.equal(again.prefix, 'module.backbone.');
    assert.equal(again.loaded, everyTensor);
    assert.deepEqual(again.unexpected, ['module.backbone.fc.weight', 'module.backbone.fc.bias', 'module.projector.0.weight']);
    const vit = vitTiny({ imageSize: 32, patchSize: 4, depth: 2 });
    const vitReport = check(vit, 'timm-vit.safetensors', 'timm-vit-io.safetensors').report;
    assert.deepEqual(vitReport.unexpected, ['head.weight', 'head.bias']);
    resnet.dispose();
    vit.dispose();
  });
  test('what does not fit is refused with every key named, unless allowed; position tables of another grid are resized', () => {
    const { tensors } = readSafetensors(join(dir, 'torchvision-resnet18.safetensors'));
    const deeper = resnet50({ stem: 'cifar' });
    assert.throws(() => importBackboneWeights(deeper, tensors, { source: 'r18.safetensors' }),
      (e: Error) => /^r18\.safetensors do not fit this ResNet:/.test(e.message) && /missing from the file \(\d+\): .*layer1\.0\.conv3\.weight/.test(e.message) && /shape of layer1\.0\.conv1\.weight: the backbone has \[64, 64, 1, 1\], the file \[64, 64, 3, 3\]/.test(e.message));
    const vitWeights = readSafetensors(join(dir, 'timm-vit.safetensors')).tensors;
    assert.throws(() => importBackboneWeights(deeper, vitWeights), /none of its \d+ keys is a key of this ResNet.*give the prefix/);
    const larger = vitTiny({ imageSize: 48, patchSize: 4, depth: 3 });
    assert.throws(() => importBackboneWeights(larger, vitWeights), /missing from the file \(12\): blocks\.2\.norm1\.weight/);
    const report = importBackboneWeights(larger, vitWeights, { allowMissing: true });
    assert.deepEqual(report.resized, [{ key: 'pos_embed', from: [1, 65, 192], to: [1, 145, 192] }]);
    // the cls row is kept, the patch rows are an upsampled image of the old ones
    assert.ok(larger.posEmbed.slice(1, 0, 1).equal(vitWeights.get('pos_embed')!.slice(1, 0, 1)));
    deeper.dispose();
    larger.dispose();
  });
});

describe('selfsup export / import / embed', () => {
  test('a run exported as ONNX, safetensors and a Hugging Face-style folder; the Node example computes embed\'s embeddings from the folder; import brings the export back', () => {
    const run = join(dir, 'run');
    const pre = selfsup('pretrain', '--method', 'simclr', '--data', mini, '--out', run, '--epochs', '1', '--batch-size', '16', '--width', '0.25', '--hidden-dim', '32');
    assert.equal(pre.status, 0, pre.stderr);
    const checkpoint = join(run, 'checkpoint.safetensors');
    const embed = selfsup('embed', '--checkpoint', checkpoint, '--data', mini, '--out', join(dir, 'emb'));
    assert.equal(embed.status, 0, embed.stderr);
    const emb = JSON.parse(readFileSync(join(dir, 'emb.json'), 'utf8')) as { count: number; dim: number; items: { index: number; path: string; label: string; embedding: number[] }[] };
    assert.deepEqual([emb.count, emb.dim, emb.items.length], [40, 128, 40]);
    assert.match(emb.items[5].path, /automobile\/0001\.jpg$/);
    assert.equal(emb.items[5].label, 'automobile');
    const stored = readSafetensors(join(dir, 'emb.safetensors'));
    assert.deepEqual(JSON.parse(stored.metadata.paths), emb.items.map((i) => i.path));
    assert.ok(maxAbsDiff((stored.tensors.get('embeddings')!.data() as Float32Array).subarray(5 * 128, 6 * 128), emb.items[5].embedding) < 1e-6);

    for (const [format, out] of [['onnx', 'enc.onnx'], ['safetensors', 'enc'], ['hf', 'enc-hf']]) {
      const exported = selfsup('export', '--checkpoint', checkpoint, '--format', format, '--out', join(dir, out));
      assert.equal(exported.status, 0, exported.stderr);
      assert.match(exported.stdout, /exported the resnet18 backbone \(128-d features, 32 px images\)/);
    }
    const preprocessor = JSON.parse(readFileSync(join(dir, 'enc-hf/preprocessor_config.json'), 'utf8'));
    assert.deepEqual(preprocessor.image_mean, JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).run.normalize.mean);
    assert.equal(JSON.parse(readFileSync(join(dir, 'enc-hf/config.json'), 'utf8')).model_type, 'resnet');

    const images = emb.items.filter((i) => i.index % 9 === 0);
    const example = spawnSync(process.execPath, [join(root, 'examples/onnx-embeddings.mjs'), join(dir, 'enc-hf'), ...images.map((i) => i.path)], { encoding: 'utf8' });
    assert.equal(example.status, 0, example.stderr);
    const fromOnnx = JSON.parse(example.stdout) as { embeddings: number[][] };
    images.forEach((item, i) => {
      const diff = maxAbsDiff(fromOnnx.embeddings[i], item.embedding);
      assert.ok(diff < 1e-4, `${item.path}: max |example - selfsup embed| = ${diff}`);
    });

    const imported = selfsup('import', '--weights', join(dir, 'enc.safetensors'), '--out', join(dir, 'imported.safetensors'));
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, /loaded 120 tensors/);
    const again = selfsup('embed', '--checkpoint', join(dir, 'imported.safetensors'), '--data', mini, '--out', join(dir, 'emb2'));
    assert.equal(again.status, 0, again.stderr);
    assert.ok(readFileSync(join(dir, 'emb2.npy')).equals(readFileSync(join(dir, 'emb.npy'))), 'the imported backbone gives the same embeddings');

    const continued = selfsup('pretrain', '--method', 'byol', '--init', join(dir, 'imported.safetensors'), '--data', mini, '--out', join(dir, 'continued'), '--epochs', '1', '--batch-size', '20');
    assert.equal(continued.status, 0, continued.stderr);
    assert.match(continued.stderr, /initialised from .*imported\.safetensors \(a imported run\): the backbone only/);

    const unnamed = selfsup('import', '--weights', join(dir, 'torchvision-resnet18.safetensors'), '--out', join(dir, 'x.safetensors'), '--image-size', '32');
    assert.equal(unnamed.status, 2);
    assert.match(unnamed.stderr, /is not a selfsup export: say which network it is with --backbone/);
    const wrong = selfsup('import', '--weights', join(dir, 'torchvision-resnet18.safetensors'), '--out', join(dir, 'x.safetensors'), '--image-size', '32', '--backbone', 'vit_tiny');
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /none of its 122 keys is a key of this VisionTransformer/);
    const badFormat = selfsup('export', '--checkpoint', checkpoint, '--format', 'tflite', '--out', join(dir, 'x'));
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /--format must be one of onnx, safetensors, hf, got 'tflite'/);
  });
});
