// The joint-embedding methods: momentum encoders and their schedule, MoCo's queue, one step of each
// method (a finite loss whose gradient reaches the backbone and not the momentum encoder), a saved
// and restored method, and the collapse that SimSiam without its stop-gradient must show.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ImageFolder } from '../src/data/index.js';
import { BarlowTwins, buildMethod, BYOL, METHOD_NAMES, methodViews, MoCoV2, MoCoV3, NNCLR, SimSiam, SwAV, VIT_ONLY_METHODS, relativeRowEntropy } from '../src/methods/index.js';
import { Linear } from '../src/nn/index.js';
import { VisionTransformer, resnet18, vitTiny } from '../src/models/index.js';
import { cosineMomentum, emaUpdate, momentumEncoder } from '../src/optim/index.js';
import { PretrainSchema, methodOptions } from '../src/runs/index.js';
import { pretrain } from '../src/train/index.js';
import { Generator, type Tensor, cat, noGrad, rand, randn, tensor, tidy } from '../src/tensor/index.js';
import { KMeansTokenizer } from '../src/tokenizers/index.js';
import { assertClose } from './helpers/gradcheck.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-methods-'));
const tinyBackbone = (seed = 0) => resnet18({ stem: 'cifar', width: 0.125, generator: new Generator(seed) });
const views = () => [rand([8, 3, 16, 16], { generator: new Generator(1) }), rand([8, 3, 16, 16], { generator: new Generator(2) })];

describe('momentum encoders', () => {
  test('EMA moves the copy towards the online weights; the copy is frozen; cosine schedule ends', () => {
    const online = new Linear(2, 1, { generator: new Generator(0) });
    const target = momentumEncoder(online);
    assert.ok(target.parameters().every((p) => !p.requiresGrad));
    const before = target.weight.flatten().toArray() as number[];
    tidy(() => { online.weight.requiresGrad_(false).copy_(tensor([[1, 2]])); });
    emaUpdate(target, online, 0.9);
    assertClose(target.weight.flatten().toArray() as number[], [0.9 * before[0] + 0.1, 0.9 * before[1] + 0.2], 1e-6);
    assertClose([cosineMomentum(0.996, 0), cosineMomentum(0.996, 0.5), cosineMomentum(0.996, 1)], [0.996, 0.998, 1], 1e-9);
  });
});

describe('methods', () => {
  test('every method: one step gives a finite loss, gradients reach the backbone, never the momentum encoder', () => {
    for (const name of METHOD_NAMES) {
      const vit = VIT_ONLY_METHODS.includes(name);
      const backbone = vit ? vitTiny({ imageSize: 16, patchSize: 4, dim: 16, depth: 1, heads: 2, posEmbed: 'sincos' }) : tinyBackbone();
      const featureDim = backbone instanceof VisionTransformer ? backbone.dim : backbone.featureDim;
      const tokenizer = name === 'beit' ? new KMeansTokenizer(randn([16, 48], { generator: new Generator(4) }), 4, { mean: [0, 0, 0], std: [1, 1, 1] }) : undefined;
      const method = buildMethod(name, backbone, featureDim, { hiddenDim: 32, projectionDim: 16, prototypes: 16, queueSize: 32, decoderDim: 16, decoderDepth: 1, tokenizer, numClasses: 4 }, new Generator(3));
      const out = method.step(name === 'fastsiam' ? [...views(), ...views()] : views(), null, tensor([0, 1, 2, 3, 0, 1, 2, 3], { dtype: 'int64' })); // labels: supervised pretraining's, ignored by the others
      const loss = out.loss.item();
      assert.ok(Number.isFinite(loss), `${name}: loss ${loss}`);
      out.loss.backward();
      assert.ok(backbone.parameters().every((p) => p.grad !== null || !p.requiresGrad), `${name}: every trainable backbone parameter gets a gradient`);
      for (const [key, p] of method.namedParameters()) {
        if (/^(key|target|teacher)\./.test(key)) assert.ok(!p.requiresGrad && p.grad === null, `${name}: ${key} is a momentum encoder's`);
      }
      assert.ok(method.namedParameters().some(([k]) => k.startsWith(`${method.backboneKey}.`)), `${name}: backbone under '${method.backboneKey}'`);
      method.afterStep(0.5);
      method.dispose();
    }
  });
  test('MoCo v2: the queue is a ring of the newest keys; the key encoder follows by EMA', () => {
    const moco = new MoCoV2(tinyBackbone(), { featureDim: 64, hiddenDim: 32, projectionDim: 16, queueSize: 20, generator: new Generator(4) });
    const first = moco.queue.clone();
    tidy(() => { moco.step(views()); });
    assert.equal(moco.pointer.item(), 16, 'two views of 8 keys each');
    assert.ok(moco.queue.narrow(0, 16, 4).equal(first.narrow(0, 16, 4)), 'the rest untouched');
    assertClose(moco.queue.narrow(0, 0, 16).norm(2, 1).toArray() as number[], Array(16).fill(1), 1e-5);
    tidy(() => { moco.step(views()); });
    assert.equal(moco.pointer.item(), 12, 'wrapped around: (16 + 16) mod 20');
    // after an update of the query (as an optimizer step makes), key = m key + (1 - m) query (MoCo Eq. 2)
    const [key, query] = [moco.key.projection.parameters()[0], moco.query.projection.parameters()[0]];
    noGrad(() => query.add_(1));
    const expected = tidy(() => key.mul(moco.momentum).add(query, 1 - moco.momentum));
    moco.afterStep();
    assertClose(key.toArray() as number[][], expected.toArray() as number[][], 1e-6);
    assert.ok(!key.equal(query), 'the key follows slowly, it is not the query');
  });
  test('NNCLR: the first view\'s unit embeddings join the support set, and the neighbours come from it', () => {
    const nnclr = new NNCLR(tinyBackbone(), { featureDim: 64, hiddenDim: 32, projectionDim: 16, queueSize: 12, generator: new Generator(4) });
    tidy(() => { nnclr.step(views()); });
    assert.equal(nnclr.pointer.item(), 8);
    const z1 = tidy(() => nnclr.encoder.forward(cat(views(), 0)).narrow(0, 0, 8));   // both views in one batch, as the step
    assertClose(nnclr.support.narrow(0, 0, 8).toArray() as number[][], tidy(() => z1.div(z1.norm(2, 1, true))).toArray() as number[][], 1e-4);
    tidy(() => { nnclr.step(views()); });
    assert.equal(nnclr.pointer.item(), 4, 'wrapped around: (8 + 8) mod 12');
  });
  test('SwAV: unit prototypes, frozen at first; the queue fills from queueStart and joins Sinkhorn-Knopp once full', () => {
    const swav = new SwAV(tinyBackbone(), { featureDim: 64, hiddenDim: 32, projectionDim: 16, prototypes: 10, queueSize: 16, queueStart: 0.1, freezePrototypes: 0.05, generator: new Generator(4) });
    const crops = [...views(), rand([8, 3, 8, 8], { generator: new Generator(5) })];   // 2 global crops, 1 local
    const step = (progress: number) => tidy(() => {
      const out = swav.step(crops);
      swav.zeroGrad();
      out.loss.backward();
      swav.beforeUpdate(progress);
      const frozen = swav.prototypes.weight.grad === null || swav.prototypes.weight.grad.abs().max().item() === 0;
      swav.afterStep(progress);
      return { inUse: out.metrics!['swav/queue_in_use'], frozen, backboneGrad: swav.backbone.parameters()[0].grad!.abs().max().item() };
    });
    // a step sees the progress of the step before it (afterStep), as in the trainer
    let r = step(0.01);
    assert.ok(r.frozen && r.backboneGrad > 0, 'prototypes frozen in the first 5%, the backbone trains');
    assertClose(swav.prototypes.weight.norm(2, 1).toArray() as number[], Array(10).fill(1), 1e-5);
    r = step(0.2);
    assert.ok(!r.frozen && r.inUse === 0);
    assert.equal(swav.queued.item(), 0, 'no queue before queueStart');
    step(0.3);
    assert.equal(swav.queued.item(), 8, 'each global crop stored its 8 embeddings');
    r = step(0.4);
    assert.equal(r.inUse, 0);
    assert.equal(swav.queued.item(), 16, 'full');
    r = step(0.5);
    assert.equal(r.inUse, 1, 'the full queue joins Sinkhorn-Knopp');
    assertClose(swav.queue.select(0, 1).norm(2, 1).toArray() as number[], Array(16).fill(1), 1e-4);
    assert.ok([...swav.stateDict().keys()].includes('queue'), 'a checkpoint holds the queue');
  });
  test('SwAV: the codes\' entropy is 1 (uniform) for a batch of one image repeated and lower for different images', () => {
    const swav = new SwAV(tinyBackbone(), { featureDim: 64, hiddenDim: 32, projectionDim: 16, prototypes: 10, generator: new Generator(4) });
    swav.eval();   // batch statistics would tell copies of one image apart from nothing
    const entropy = (images: Tensor) => tidy(() => swav.step([images, images]).metrics!['swav/code_entropy']);
    const same = entropy(rand([1, 3, 16, 16], { generator: new Generator(6) }).expand(8, 3, 16, 16).contiguous());
    const different = entropy(randn([8, 3, 16, 16], { generator: new Generator(7) }));
    assertClose([same], [1], 1e-5);
    assert.ok(different < 0.95, `different images: entropy ${different}`);
    assert.equal(relativeRowEntropy(tensor([[1, 0], [0, 1]])), 0, 'one-hot codes');
  });
  test('SwAV: a run\'s --sinkhorn-epsilon, --freeze-prototypes and --queue-start reach the method', () => {
    const config = PretrainSchema.parse({ method: 'swav', data: 'images/', out: 'runs/swav', sinkhornEpsilon: 0.02, freezePrototypes: 1, queueStart: 0.5 });
    const small = { hiddenDim: 32, projectionDim: 16, prototypes: 10, queueSize: 8 };
    const fromRun = buildMethod('swav', tinyBackbone(), 64, { ...methodOptions(config, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }), ...small }, new Generator(4)) as SwAV;
    const direct = new SwAV(tinyBackbone(), { featureDim: 64, ...small, epsilon: 0.02, generator: new Generator(4) });
    const byDefault = new SwAV(tinyBackbone(), { featureDim: 64, ...small, generator: new Generator(4) });
    const loss = (m: SwAV) => tidy(() => m.step(views()).loss.item());
    assert.equal(loss(fromRun), loss(direct), 'epsilon 0.02, as a SwAV built with it');
    assert.notEqual(loss(fromRun), loss(byDefault), 'not the default 0.05');
    tidy(() => {
      fromRun.zeroGrad();
      fromRun.step(views()).loss.backward();
      fromRun.beforeUpdate(0.9);
      assert.equal(fromRun.prototypes.weight.grad?.abs().max().item() ?? 0, 0, 'prototypes still frozen at 90% of training');
      fromRun.afterStep(0.4);
    });
    tidy(() => { fromRun.step(views()); });
    assert.equal(fromRun.queued.item(), 0, 'no queue before 50% of training (the default starts at 5%)');
    [fromRun, direct, byDefault].forEach((m) => m.dispose());
  });
  test('state dicts hold the momentum encoder and the queue, so a checkpoint resumes them', () => {
    assert.ok([...new BYOL(tinyBackbone(), { featureDim: 64, hiddenDim: 32 }).stateDict().keys()].some((k) => k.startsWith('target.')));
    assert.ok([...new MoCoV2(tinyBackbone(), { featureDim: 64, hiddenDim: 32, queueSize: 8 }).stateDict().keys()].includes('queue'));
    assert.ok([...new MoCoV3(tinyBackbone(), { featureDim: 64, hiddenDim: 32 }).stateDict().keys()].some((k) => k.startsWith('predictor.')));
    assert.equal(new BarlowTwins(tinyBackbone(), { featureDim: 64, hiddenDim: 32 }).backboneKey, 'encoder.backbone');
    assert.throws(() => new MoCoV3(tinyBackbone(), { featureDim: 64, freezePatchProjection: true }), /freezePatchProjection needs a ViT/);
  });
});

describe('the collapse monitor catches a real collapse', () => {
  test('SimSiam without its stop-gradient collapses to a line and is flagged; with it, it is not', async () => {
    const demoTest = fileURLToPath(new URL('../../data/cifar10-demo/test', import.meta.url));
    // at 16 px (a third of 32's step): the collapse, flagged at step 60 with rank 1.4, is the same
    const images = await ImageFolder.scan(demoTest).load({ size: 16 });
    const warnings: Record<string, string[]> = {};
    for (const stopGradient of [true, false]) {
      const g = new Generator(0);
      const backbone = resnet18({ stem: 'cifar', width: 0.125, generator: g });
      const method = new SimSiam(backbone, { featureDim: backbone.featureDim, projectionDim: 256, stopGradient, generator: g });
      const logged: string[] = [];
      await pretrain(method, images, methodViews('simsiam', { size: 16 }), {
        out: join(dir, `simsiam-${stopGradient}`), epochs: 100, maxSteps: 120, batchSize: 64, diagnosticsEvery: 10,
        // float32 on every CPU: the path to collapse (rank 1 at its first warning) is this test's subject
        precision: 'fp32', optimizer: { name: 'sgd', lr: 0.1, weightDecay: 5e-4 }, log: (l) => logged.push(l),
      });
      warnings[String(stopGradient)] = logged.filter((l) => /representation collapse/.test(l));
      method.dispose();
    }
    assert.deepEqual(warnings.true, [], 'with the stop-gradient: no collapse');
    assert.ok(warnings.false.length >= 1, 'without it: flagged');
    assert.match(warnings.false[0], /^step \d+: representation collapse: .* effective rank 1\.\d\d of 64$/);
  });

  test('DINO with a teacher hotter than its student collapses to uniform outputs and is flagged; with 0.04 -> 0.07 it is not', async () => {
    const demoTrain = fileURLToPath(new URL('../../data/cifar10-demo/train', import.meta.url));
    // at 16 px, as the SimSiam test: the hot teacher's run is flagged at step 20 (rank 2.8 of 128), the other not
    const images = await ImageFolder.scan(demoTrain).load({ size: 16 });
    const warnings: Record<string, string[]> = {};
    for (const teacherTemperature of [0.07, 0.5]) {
      const g = new Generator(0);
      const vit = vitTiny({ imageSize: 16, patchSize: 4, dim: 96, depth: 2, heads: 3, generator: g });
      // a teacher temperature above the student's (0.1) flattens the targets instead of sharpening them (DINO Sec. 5.3)
      const method = buildMethod('dino', vit, 96, { prototypes: 1024, hiddenDim: 512, momentum: 0.99, teacherTemperature, warmupTeacherTemperature: teacherTemperature === 0.07 ? 0.04 : teacherTemperature }, g);
      const logged: string[] = [];
      await pretrain(method, images, methodViews('dino', { size: 16, localCrops: 2 }), {
        out: join(dir, `dino-${teacherTemperature}`), epochs: 100, maxSteps: 30, batchSize: 128, diagnosticsEvery: 10, clipGrad: 3,
        optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0.04, finalWeightDecay: 0.4, warmupEpochs: 0.5 }, log: (l) => logged.push(l),
      });
      warnings[String(teacherTemperature)] = logged.filter((l) => /representation collapse/.test(l));
      method.dispose();
    }
    assert.deepEqual(warnings['0.07'], [], 'teacher 0.04 -> 0.07: no collapse');
    assert.ok(warnings['0.5'].length >= 1, 'teacher 0.5: flagged');
  });
});
