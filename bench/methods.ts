/**
 * `npm run bench -- methods [--only <row>]`: end-to-end training throughput (data + step) of each
 * method against the same method in PyTorch + torchvision at its best (bench/peers/methods.py; every
 * mode of peer_modes.py measured in each round, the fastest median taken), ResNet-18 with the CIFAR
 * stem on real CIFAR-10 JPEGs, batch 256, 2 threads. MAE, BEiT, SimMIM and I-JEPA train ViT-Tiny/4 with AdamW against
 * bench/peers/masked.py (BEiT with an 8192-code VQ-VAE tokenizer on both sides; I-JEPA's peer draws its masks in
 * its loader's worker processes, as the reference's collator, selfsup in the training step). DINO trains ViT-Tiny/4
 * (row dino) and ResNet-18 (dino_resnet18) on 2 global crops of 32 and 6 local crops of 16 against
 * bench/peers/dino.py, and iBOT (ViT-Tiny/4) against its --method ibot; SwAV (ResNet-18, the same crops) against
 * bench/peers/swav.py; FastSiam on 4 views of 32; supervised is ResNet-18 + a linear classifier.
 * Both sides hold the decoded images in memory and augment them every step: selfsup's loader with 1
 * worker thread (its default on 2 cores), the peer's DataLoader with 2 worker processes over PIL
 * images decoded once (--in-memory). selfsup runs as `pretrain` does by default (precision auto,
 * channels_last ResNets). Rounds alternate which side runs first; ratio_vs_pytorch_best is the
 * median of per-round ratios against the peer's best mode. Each row is printed to stderr as it
 * completes; a row that cannot be timed is reported with its error and the others still run.
 *
 * `npm run bench -- parity`: the accuracy-parity protocol: the same SimCLR run (data/cifar10-demo,
 * ResNet-18 at quarter width, 10 epochs, batch 128, SGD 0.12 with 1 warm-up epoch and cosine,
 * weight decay 5e-4, temperature 0.5, seed 0) in both, then weighted kNN top-1 on the test images;
 * selfsup at its default precision (auto: bf16 autocast where the CPU has it), PyTorch in fp32.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataLoader, type ImageArray, ImageFolder } from '../src/data/index.js';
import { backboneKnn } from '../src/eval/index.js';
import { buildMethod, MASKED_IMAGE_METHODS, METHOD_NAMES, type MethodName, methodRecipe, methodViews, SELF_DISTILLATION_METHODS, SimCLR, type SSLMethod } from '../src/methods/index.js';
import { VisionTransformer, resnet18, vitTiny } from '../src/models/index.js';
import { AdamW, SGD, clipGradNorm } from '../src/optim/index.js';
import { VQTokenizer } from '../src/tokenizers/index.js';
import { Generator, type MemoryFormat, autocast, describePrecision, emptyCache, resolvePrecision, setNumThreads, tidy } from '../src/tensor/index.js';
import { pretrain } from '../src/train/index.js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../src/transforms/index.js';
import { cifarJpegSubset } from './cifarJpegs.js';
import { TCMALLOC, runPeer } from './peer.js';
import { median, round, roundRatio } from './sideBySide.js';

export interface MethodsBenchOptions {
  only?: string;
  batch: number;
  steps: number;
  warmup: number;
  rounds: number;
  threads: number;
  peer: boolean;
}

const normalize = { mean: CIFAR10_MEAN, std: CIFAR10_STD };

/** Projector width for Barlow Twins and VICReg in both (the papers' 8192 x 3 is ImageNet-sized). */
const HIDDEN: Partial<Record<MethodName, number>> = { barlow_twins: 2048, vicreg: 2048 };

/** DINO / iBOT / DINOv2 rows: the backbone (bench/peers/dino.py is the peer of all four). */
const SELF_DISTILLATION_ROWS: Record<string, { method: MethodName; backbone: 'vit_tiny' | 'resnet18' }> = {
  dino: { method: 'dino', backbone: 'vit_tiny' },
  dino_resnet18: { method: 'dino', backbone: 'resnet18' },
  ibot: { method: 'ibot', backbone: 'vit_tiny' },
  dinov2: { method: 'dinov2', backbone: 'vit_tiny' },
};

/**
 * The method as the bench trains it: ResNet-18 + SGD; ViT-Tiny/4 + AdamW for masked image modelling;
 * DINO / iBOT with AdamW (lr 2.5e-4, weight decay 0.04, clipping at 3) on the row's backbone.
 */
export function benchMethod(name: MethodName, maskRatio?: number, row?: string): { method: SSLMethod; optimizer: SGD | AdamW } {
  const generator = new Generator(0);
  if (SELF_DISTILLATION_METHODS.includes(name)) {
    const backbone = SELF_DISTILLATION_ROWS[row ?? name].backbone === 'vit_tiny' ? vitTiny({ imageSize: 32, patchSize: 4, generator }) : resnet18({ stem: 'cifar', generator });
    const method = buildMethod(name, backbone, backbone instanceof VisionTransformer ? backbone.dim : backbone.featureDim, {}, generator);
    return { method, optimizer: new AdamW(method.parameterGroups(0.04), { lr: 2.5e-4, weightDecay: 0.04 }) };
  }
  if (MASKED_IMAGE_METHODS.includes(name)) {
    const vit = vitTiny({ imageSize: 32, patchSize: 4, ...methodRecipe(name, 'vit_tiny').vitOptions, generator });
    const tokenizer = name === 'beit' ? new VQTokenizer({ patchSize: 4, vocabulary: 8192, normalize, generator }) : undefined;
    tokenizer?.eval();
    const method = buildMethod(name, vit, vit.dim, { tokenizer, viewNormalize: normalize, maskRatio }, generator);
    return { method, optimizer: new AdamW(method.parameterGroups(0.05), { lr: 1.5e-4, weightDecay: 0.05, betas: name === 'mae' ? [0.9, 0.95] : [0.9, 0.999] }) };
  }
  const backbone = resnet18({ stem: 'cifar', generator });
  const method = buildMethod(name, backbone, backbone.featureDim, { hiddenDim: HIDDEN[name], numClasses: name === 'supervised' ? 10 : undefined }, generator);
  return { method, optimizer: new SGD(method.parameterGroups(5e-4), { lr: 0.06, momentum: 0.9, weightDecay: 5e-4 }) };
}

async function methodRate(name: MethodName, images: ImageArray, o: MethodsBenchOptions, maskRatio?: number, row?: string): Promise<number> {
  const { method, optimizer } = benchMethod(name, maskRatio, row);
  const memoryFormat = (method.backbone as { memoryFormat?: MemoryFormat }).memoryFormat;   // as the trainer: NHWC views for a channels_last ResNet
  const loader = new DataLoader(images, { batchSize: o.batch, views: methodViews(name, { size: 32, normalize, maskRatio, localCrops: 6 }), workers: 1, memoryFormat });
  const bf16 = resolvePrecision('auto') === 'bf16';   // as pretrain by default
  let start = 0;
  for (let step = -o.warmup; step < o.steps; step++) {
    if (step === 0) start = performance.now();
    const batch = await loader.next();
    tidy(() => {
      const run = () => method.step(batch.views, batch.mask, batch.labels);
      (bf16 ? autocast(run) : run()).loss.backward();
      if (SELF_DISTILLATION_METHODS.includes(name)) clipGradNorm(method.parameters(), 3);
      optimizer.step();
      optimizer.zeroGrad();
    });
    method.afterStep(0.5);
    for (const v of batch.views) v.dispose();
    batch.labels?.dispose();
    batch.mask?.dispose();
  }
  const rate = (o.batch * o.steps) / ((performance.now() - start) / 1000);
  await loader.close();
  method.dispose();
  optimizer.dispose();
  emptyCache();   // the peer runs next in its own process: give it the memory (iBOT at batch 256 takes 10-14 GB a side)
  return rate;
}

export async function methodsBench(o: MethodsBenchOptions): Promise<Record<string, unknown>> {
  setNumThreads(o.threads);
  const result: Record<string, unknown> = {};
  // DINO gets a ViT row and a ResNet-18 row
  const rowNames = METHOD_NAMES.flatMap((m) => (m === 'dino' ? ['dino', 'dino_resnet18'] : [m]));
  const names = o.only ? [o.only] : rowNames;
  for (const name of names) if (!rowNames.includes(name)) throw new Error(`methods: unknown row '${name}' (expected one of ${rowNames.join(', ')})`);
  const folder = cifarJpegSubset('train', 512);
  const images = await ImageFolder.scan(folder).load();
  for (const rowName of names) {
    try {
      result[rowName] = await methodRow(rowName, images, folder, o);
    } catch (error) {
      result[rowName] = { error: (error as Error).message.split('\n')[0] };
    }
    process.stderr.write(`methods: ${JSON.stringify({ [rowName]: result[rowName] })}\n`);
  }
  return result;
}

/** The peer's modes for a row: channels_last only where the backbone is a conv net. */
function peerModes(rowName: string, name: MethodName): string {
  const conv = !MASKED_IMAGE_METHODS.includes(name) && (SELF_DISTILLATION_ROWS[rowName]?.backbone ?? 'resnet18') === 'resnet18';
  return conv ? 'fp32,channels_last,bf16,bf16+channels_last' : 'fp32,bf16';
}

async function methodRow(rowName: string, images: ImageArray, folder: string, o: MethodsBenchOptions): Promise<Record<string, unknown>> {
  const distilled = SELF_DISTILLATION_ROWS[rowName];
  const name = distilled?.method ?? (rowName as MethodName);
  const withPeer = o.peer;
  const common = ['--data', folder, '--in-memory', '--batch', String(o.batch), '--steps', String(o.steps), '--warmup', String(o.warmup),
    '--threads', String(o.threads), '--workers', '2', '--modes', peerModes(rowName, name)];
  const peerRun = () => (distilled ? runPeer('dino.py', ['--method', distilled.method, '--backbone', distilled.backbone, '--locals', '6', ...common], { LD_PRELOAD: TCMALLOC })
    : MASKED_IMAGE_METHODS.includes(name) ? runPeer('masked.py', ['--method', name, ...common], { LD_PRELOAD: TCMALLOC })
    // prototypes not frozen: ours trains them at the bench's progress (0.5)
    : name === 'swav' ? runPeer('swav.py', ['--locals', '6', '--freeze-steps', '0', ...common], { LD_PRELOAD: TCMALLOC })
    : runPeer('methods.py', ['--method', name, '--hidden', String(HIDDEN[name] ?? 0), ...common], { LD_PRELOAD: TCMALLOC }));
  // one peer process a round times every mode (each with its own fresh model and warm-up); odd rounds run the peer first
  const peerRounds: Record<string, number>[] = [];
  let tcmalloc = true;
  const ours: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const peerFirst = r % 2 === 1;
    const runPeerRound = () => {
      const run = peerRun();
      tcmalloc &&= run.tcmalloc === true;
      peerRounds.push(run.modes as Record<string, number>);
    };
    if (withPeer && peerFirst) runPeerRound();
    ours.push(await methodRate(name, images, o, undefined, rowName));
    if (withPeer && !peerFirst) runPeerRound();
  }
  const row: Record<string, unknown> = { img_per_s: round(median(ours), 2), rounds: ours.map((v) => round(v, 2)) };
  if (withPeer) {
    const modes = Object.keys(peerRounds[0]);
    const byMode = Object.fromEntries(modes.map((m) => [m, peerRounds.map((p) => p[m])]));
    const best = modes.reduce((a, b) => (median(byMode[b]) > median(byMode[a]) ? b : a));
    Object.assign(row, {
      peer_img_per_s: Object.fromEntries(modes.map((m) => [m, round(median(byMode[m]), 2)])), peer_best_mode: best,
      peer_best_img_per_s: round(median(byMode[best]), 2), peer_rounds: byMode[best].map((v) => round(v, 2)),
      ratio_vs_pytorch_best: round(roundRatio(ours, byMode[best]), 3), peer_tcmalloc_loaded: tcmalloc,
    });
  }
  if (name === 'mae') {
    // What masking buys (MAE's point, He et al., 2022, Sec. 3): the same step with one patch of 64 masked.
    const full = await methodRate(name, images, o, 1 / 64);
    Object.assign(row, { one_patch_masked_img_per_s: round(full, 2), speedup_from_masking: round(median(ours) / full, 2) });
  }
  if (distilled) row.views = `2x32 + 6x16 crops, ${distilled.backbone}`;
  if (name === 'swav') row.views = '2x32 + 6x16 crops, resnet18';
  if (name === 'fastsiam') row.views = '4x32';
  return row;
}

export async function parityBench(o: { epochs: number; threads: number; peer: boolean }): Promise<Record<string, unknown>> {
  setNumThreads(o.threads);
  const demo = fileURLToPath(new URL('../../data/cifar10-demo', import.meta.url));
  const [train, test] = [await ImageFolder.scan(join(demo, 'train')).load(), await ImageFolder.scan(join(demo, 'test')).load()];
  const generator = new Generator(0);
  const backbone = resnet18({ stem: 'cifar', width: 0.25, generator });
  const method = new SimCLR(backbone, { featureDim: backbone.featureDim, generator });
  const started = performance.now();
  const summary = await pretrain(method, train, methodViews('simclr', { size: 32, normalize }), {
    out: join(fileURLToPath(new URL('../../bench/.cache', import.meta.url)), 'parity-run'), overwrite: true, epochs: o.epochs, batchSize: 128, seed: 0, workers: 1,
    optimizer: { name: 'sgd', lr: 0.12, weightDecay: 5e-4, warmupEpochs: 1 }, log: () => undefined,
  });
  const seconds = (performance.now() - started) / 1000;
  const knn = backboneKnn(backbone, train, test, methodViews('eval', { size: 32, normalize }).views[0]);
  const result: Record<string, unknown> = {
    epochs: o.epochs, ours_precision: describePrecision('auto'),
    ours: { knn_top1: round(knn.top1, 4), first_loss: round(summary.firstLoss, 4), last_loss: round(summary.lastLoss, 4), seconds: round(seconds, 1) },
  };
  if (o.peer) {
    const peer = runPeer('methods.py', ['--mode', 'parity', '--method', 'simclr', '--data', join(demo, 'train'), '--test', join(demo, 'test'), '--batch', '128', '--width', '0.25',
      '--epochs', String(o.epochs), '--lr', '0.12', '--threads', String(o.threads), '--workers', '2'], { LD_PRELOAD: TCMALLOC });
    result.peer = peer;
    result.knn_difference_points = round(100 * (knn.top1 - (peer.knn_top1 as number)), 2);
  }
  return result;
}
