/**
 * `npm run bench -- models [--json] [--steps N] [--min-round-seconds S] [--rounds R] [--no-peer] [--device cuda]`
 *
 * Train-step images/s of the model zoo, batch 128 at 32x32 on 2 threads, side by side with the
 * same modules in PyTorch at its best (bench/peers/models.py: tcmalloc preloaded and checked, the
 * same threads, each of its modes measured: fp32, channels_last, bf16 autocast, both):
 *   resnet18         ResNet-18, CIFAR stem, SGD momentum 0.9, weight decay 5e-4
 *   vit_tiny         ViT-Tiny/4 on all 64 tokens, AdamW
 *   vit_tiny_mask75  ViT-Tiny/4 on 16 visible tokens (MAE's encoder at mask ratio 0.75), AdamW
 * selfsup runs as `pretrain` does by default (precision auto; ResNets channels_last) and in fp32.
 * Per model: img_per_s (the default), peer_best_img_per_s, peer_best_mode, ratio_vs_pytorch_best
 * and ratio_vs_pytorch_fp32 (fp32 against fp32), each ratio the median of per-round ratios over
 * rounds that alternate which side runs first; each round runs at least --steps steps and enough for
 * about --min-round-seconds (default 3) of the default mode (`steps_per_round`). `eval_img_per_s` is the forward alone in eval mode
 * without gradients (frozen features, as kNN and linear probes take them) in fp32 and under bf16
 * autocast: selfsup only.
 */
import type { Layer } from '../src/nn/index.js';
import { resnet18, vitTiny, type ResNet, type VisionTransformer } from '../src/models/index.js';
import { AdamW, SGD, type Optimizer } from '../src/optim/index.js';
import {
  type Device, Generator, autocast, noGrad, crossEntropy, describePrecision, rand, randint, randn, resolvePrecision, setDefaultDevice, setNumThreads, tidy, type Tensor,
} from '../src/tensor/index.js';
import { runPeer, TCMALLOC } from './peer.js';
import { alternatingRounds, median, round, roundRatio } from './sideBySide.js';

export interface ModelsOptions {
  /** steps per round at least; more where a round would take under minRoundSeconds */
  steps: number; minRoundSeconds: number; warmup: number; rounds: number; threads: number; batch: number; peer: boolean;
  /** cpu (default) or cuda: model, data and the peer on that device */
  device?: Device;
}

type Setup = { forward: (x: Tensor) => Tensor; model: Layer; optimizer: Optimizer<{ lr: number; weightDecay: number }>; dispose: () => void };

/** A model of the bench as it trains: its forward to logits, its optimizer. */
export function setup(name: string, batch: number): Setup {
  if (name === 'resnet18') {
    const net: ResNet = resnet18({ stem: 'cifar', numClasses: 10, generator: new Generator(0) });
    const optimizer = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    return { forward: (x) => net.forward(x), model: net, optimizer, dispose: () => { optimizer.dispose(); net.dispose(); } };
  }
  const vit: VisionTransformer = vitTiny({ imageSize: 32, patchSize: 4, numClasses: 10, generator: new Generator(0) });
  const optimizer = new AdamW(vit.parameters().filter((p) => p.requiresGrad), { lr: 1e-3, weightDecay: 0.05 });
  const keepIds = name === 'vit_tiny_mask75' ? tidy(() => rand([batch, 64], { generator: new Generator(1) }).argsort(1).slice(1, 0, 16)) : null;
  const forward = keepIds
    ? (x: Tensor) => tidy(() => vit.head!.forward(vit.forwardVisible(x, keepIds).select(1, 0)))
    : (x: Tensor) => vit.forward(x);
  return { forward, model: vit, optimizer, dispose: () => { optimizer.dispose(); vit.dispose(); keepIds?.dispose(); } };
}

/** The peer's modes for a model: channels_last only changes conv nets. */
const PEER_MODES: Record<string, string[][]> = {
  resnet18: [[], ['--channels-last'], ['--bf16'], ['--bf16', '--channels-last']],
  vit_tiny: [[], ['--bf16']],
  vit_tiny_mask75: [[], ['--bf16']],
};
const modeName = (flags: string[]) => (flags.length === 0 ? 'fp32' : flags.map((f) => f.replace(/^--/, '').replace('-', '_')).join('+'));

export function modelsBench(o: ModelsOptions): Record<string, unknown> {
  setNumThreads(o.threads);
  const device = o.device ?? 'cpu';
  setDefaultDevice(device);
  const precision = resolvePrecision('auto', device);
  const result: Record<string, unknown> = {
    bench: 'models', batch: o.batch, resolution: 32, threads: o.threads, steps: o.steps, rounds: o.rounds, device,
    selfsup_default: describePrecision('auto', device),
  };
  const tcmalloc = new Set<boolean>();
  for (const name of ['resnet18', 'vit_tiny', 'vit_tiny_mask75']) {
    const s = setup(name, o.batch);
    const x = randn([o.batch, 3, 32, 32], { generator: new Generator(2) });
    const y = randint(0, 10, [o.batch], { generator: new Generator(3) });
    const step = (bf16: boolean) => {
      const loss = tidy(() => {
        const lossOf = () => crossEntropy(s.forward(x), y);
        const l = bf16 ? autocast(lossOf) : lossOf();
        l.backward();
        return l.detach();
      });
      s.optimizer.step();
      s.optimizer.zeroGrad();
      if (device !== 'cpu') loss.item();   // wait for the GPU, as the peer does
      loss.dispose();
    };
    // enough steps for a round of about minRoundSeconds on both sides: a fast model's 3 steps take a
    // fraction of a second, where one scheduler hiccup on a shared machine decides the ratio
    for (let i = 0; i < o.warmup; i++) step(precision === 'bf16');
    const probe = process.hrtime.bigint();
    step(precision === 'bf16');
    const steps = Math.max(o.steps, Math.ceil(o.minRoundSeconds / (Number(process.hrtime.bigint() - probe) / 1e9)));
    // one timed round of ours: a warm-up step (the peer's run evicted our working set), then the steps
    const ours = (bf16: boolean) => () => {
      for (let i = 0; i < o.warmup; i++) step(bf16);
      const start = process.hrtime.bigint();
      for (let i = 0; i < steps; i++) step(bf16);
      return (o.batch * steps) / (Number(process.hrtime.bigint() - start) / 1e9);
    };
    const peerArgs = ['--model', name, '--threads', String(o.threads), '--batch', String(o.batch), '--steps', String(steps), '--warmup', String(o.warmup), '--device', device];
    const peer = !o.peer ? {} : Object.fromEntries(PEER_MODES[name].map((flags) => [modeName(flags), () => {
      const run = runPeer('models.py', [...peerArgs, ...flags], device === 'cpu' ? { LD_PRELOAD: TCMALLOC } : {});
      tcmalloc.add(run.tcmalloc as boolean);
      return run.img_per_s as number;
    }]));
    // frozen features: eval mode, no gradients, in each precision (the median of the rounds)
    const evalRate = (bf16: boolean) => {
      s.model.eval();
      const pass = () => noGrad(() => tidy(() => { const run = () => s.forward(x); (bf16 ? autocast(run) : run()).sum().item(); }));
      for (let i = 0; i < o.warmup; i++) pass();
      const start = process.hrtime.bigint();
      for (let i = 0; i < steps; i++) pass();
      s.model.train();
      return (o.batch * steps) / (Number(process.hrtime.bigint() - start) / 1e9);
    };
    const evalRounds = { fp32: [] as number[], bf16: [] as number[] };
    for (let r = 0; r < o.rounds; r++) { evalRounds.fp32.push(evalRate(false)); evalRounds.bf16.push(evalRate(true)); }
    const rounds = alternatingRounds({ rounds: o.rounds, ours: { default: ours(precision === 'bf16'), fp32: ours(false) }, peer });
    const entry: Record<string, unknown> = {
      steps_per_round: steps,
      img_per_s: round(median(rounds.ours.default), 2), img_per_s_fp32: round(median(rounds.ours.fp32), 2),
      img_per_s_rounds: rounds.ours.default.map((v) => round(v, 1)),
      eval_img_per_s: { fp32: round(median(evalRounds.fp32), 1), bf16: round(median(evalRounds.bf16), 1) },
    };
    if (rounds.peerBest) {
      entry.peer_img_per_s = Object.fromEntries(Object.entries(rounds.peer).map(([mode, v]) => [mode, round(median(v), 2)]));
      entry.peer_best_mode = rounds.peerBest;
      entry.peer_best_img_per_s = round(median(rounds.peer[rounds.peerBest]), 2);
      entry.ratio_vs_pytorch_best = round(roundRatio(rounds.ours.default, rounds.peer[rounds.peerBest]), 3);
      entry.ratio_vs_pytorch_fp32 = round(roundRatio(rounds.ours.fp32, rounds.peer.fp32), 3);
    }
    result[name] = entry;
    s.dispose();
    x.dispose();
    y.dispose();
  }
  if (o.peer && device === 'cpu') result.peer_tcmalloc_loaded = tcmalloc.size === 1 && tcmalloc.has(true);
  return result;
}
