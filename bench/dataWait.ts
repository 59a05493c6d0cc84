/**
 * `npm run bench -- datawait`: how long a SimCLR training step (ResNet-18, projection head, NT-Xent,
 * SGD; CIFAR-10 JPEGs at 32 px with the CIFAR stem, and resized to 96 px with the ImageNet stem)
 * waits for its batch, the step as `pretrain` runs it by default (precision auto, channels_last),
 * with the loader's worker thread making the next batches during the step, and, for contrast, with
 * batches made in the training thread (workers: 0). The goal is under 10% of the step time waiting.
 */
import { DataLoader, ImageFolder } from '../src/data/index.js';
import { ntXentLoss } from '../src/losses/index.js';
import { simclrProjection, resnet18 } from '../src/models/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator, autocast, resolvePrecision, setNumThreads, tidy } from '../src/tensor/index.js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../src/transforms/index.js';
import { methodViews } from '../src/methods/index.js';
import { cifarJpegSubset } from './cifarJpegs.js';
import { round } from './sideBySide.js';

export interface DataWaitOptions {
  batch: number;
  steps: number;
  threads: number;
  workers: number;
  /** view sides to measure (default 32 and 96) */
  sizes?: number[];
}

export async function dataWaitBench(o: DataWaitOptions): Promise<Record<string, unknown>> {
  setNumThreads(o.threads);
  const bf16 = resolvePrecision('auto') === 'bf16';
  const folder = ImageFolder.scan(cifarJpegSubset('train', 256));
  const result: Record<string, unknown> = { batch: o.batch, steps: o.steps, threads: o.threads, precision: bf16 ? 'bf16' : 'fp32' };
  for (const size of o.sizes ?? [32, 96]) {
    const images = await folder.load({ size });
    const views = methodViews('simclr', { size, normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } });
    const generator = new Generator(0);
    const backbone = resnet18({ stem: size <= 64 ? 'cifar' : 'imagenet', generator });
    const head = simclrProjection(512, 2048, 128, generator);
    const optimizer = new SGD([...backbone.parameters(), ...head.parameters()], { lr: 0.06, momentum: 0.9, weightDecay: 5e-4 });
    const rows: Record<string, unknown> = {};
    for (const workers of [o.workers, 0]) {
      const loader = new DataLoader(images, { batchSize: o.batch, views, workers, seed: 0, memoryFormat: backbone.memoryFormat });   // NHWC views, as the trainer asks for a channels_last ResNet
      let waiting = 0;
      let start = 0;
      for (let step = -2; step < o.steps; step++) {
        if (step === 0) start = performance.now(); // two steps warm up
        const asked = performance.now();
        const batch = await loader.next();
        if (step >= 0) waiting += performance.now() - asked;
        tidy(() => {
          const [a, b] = batch.views;
          const lossOf = () => ntXentLoss(head.forward(backbone.forward(a)), head.forward(backbone.forward(b)), 0.5);
          (bf16 ? autocast(lossOf) : lossOf()).backward();
          optimizer.step();
          optimizer.zeroGrad();
        });
        for (const v of batch.views) v.dispose();
        batch.labels?.dispose();
      }
      const total = performance.now() - start;
      await loader.close();
      rows[workers === 0 ? 'in_thread' : `workers_${workers}`] = {
        wait_fraction: round(waiting / total, 4), wait_ms_per_step: round(waiting / o.steps, 1),
        step_ms: round(total / o.steps, 0), img_per_s: round((o.batch * o.steps) / (total / 1000), 1),
      };
    }
    result[`${size}px`] = rows;
    optimizer.dispose();
    backbone.dispose();
    head.dispose();
  }
  return result;
}
