/**
 * Benchmarks (never run as tests): `npm run bench -- <name> [--json] [options]`.
 *   engine   per-call overhead and a ResNet-18 training step vs PyTorch
 *   models   train steps of ResNet-18, ViT-Tiny and ViT-Tiny on 25% of tokens vs PyTorch
 *   memory   RSS over a long run of small training steps (flat after warm-up?); --trainer: the whole pretraining path
 *   augment  SimCLR two-view augmentation of CIFAR-10 JPEGs (32 and 96 px) vs torchvision + PIL
 *   photos   the SimCLR pipeline at 224 px from full-size photos (streamed, and from a pack) vs torchvision + PIL; --files N: peak RSS
 *   datawait the share of a SimCLR ResNet-18 step spent waiting for the loader, at 32 and 96 px
 *   ops      where a model's (or I-JEPA's: --model ijepa) train step spends its time: forward, backward, optimizer, engine calls by op, JavaScript
 *   methods  end-to-end training img/s of each method vs PyTorch + torchvision (--only <method>)
 *   parity   the same SimCLR run in both, kNN accuracy compared
 *   distributed  2 processes x 1 thread vs 1 process x 2 threads (c10d Gloo data parallelism)
 *   speedrun time to accuracy: a whole-run recipe (--recipe cpu-30min) for --minutes on 48,000 CIFAR-10 training images,
 *            kNN on a validation split every --curve-every minutes and on the test images (--split validation: never
 *            read), beside PyTorch running the same recipe (--override '<json>' changes its keys; --no-peer)
 *   quality  the quality tests' short-run recipes on a validation split of the demo's training images (--only <method>,
 *            --override '<json>' to try a variant of its recipe, --threads as the tests: 1)
 */
import { methodsBench, parityBench } from './methods.js';
import { augmentBench } from './augment.js';
import { dataWaitBench } from './dataWait.js';
import { distributedBench } from './distributed.js';
import { processMalloc, type Device } from '../src/tensor/index.js';
import { engineBench } from './engine.js';
import { memoryBench, trainerMemoryBench } from './memory.js';
import { modelsBench } from './models.js';
import { opProfileBench } from './opProfile.js';
import { photosBench } from './photos.js';
import { qualityBench } from './quality.js';
import { speedrunBench } from './speedrun.js';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const [name, ...args] = process.argv.slice(2);
const json = args.includes('--json');
let result: Record<string, unknown>;
if (name === 'engine') {
  result = engineBench({
    steps: flag(args, '--steps', 4), warmup: flag(args, '--warmup', 2), threads: flag(args, '--threads', 2),
    batch: flag(args, '--batch', 128), rounds: flag(args, '--rounds', 5), peer: !args.includes('--no-peer'),
  });
} else if (name === 'models') {
  result = modelsBench({
    steps: flag(args, '--steps', 3), minRoundSeconds: flag(args, '--min-round-seconds', 3), warmup: flag(args, '--warmup', 1), rounds: flag(args, '--rounds', 3),
    threads: flag(args, '--threads', 2), batch: flag(args, '--batch', 128), peer: !args.includes('--no-peer'),
    device: args.includes('--device') ? args[args.indexOf('--device') + 1] as Device : 'cpu',
  });
} else if (name === 'ops') {
  const model = args.indexOf('--model');
  result = opProfileBench({
    model: model >= 0 ? args[model + 1] : 'vit_tiny_mask75', steps: flag(args, '--steps', 10), batch: flag(args, '--batch', 128),
    fp32: args.includes('--fp32'), threads: flag(args, '--threads', 2),
  });
} else if (name === 'memory') {
  const memory = { steps: flag(args, '--steps', 10_000), every: flag(args, '--every', 500), warmup: flag(args, '--warmup', 1000) };
  result = args.includes('--trainer') ? await trainerMemoryBench(memory) : memoryBench(memory);
} else if (name === 'augment') {
  result = await augmentBench({
    perClass: flag(args, '--per-class', 512), batch: flag(args, '--batch', 256), workers: flag(args, '--workers', 2),
    epochs: flag(args, '--epochs', 2), rounds: flag(args, '--rounds', 2), peer: !args.includes('--no-peer'),
  });
} else if (name === 'photos') {
  result = await photosBench({
    workers: flag(args, '--workers', 1), batch: flag(args, '--batch', args.includes('--files') ? 16 : 32), size: flag(args, '--size', 224),
    epochs: flag(args, '--epochs', 2), rounds: flag(args, '--rounds', 3), peer: !args.includes('--no-peer'),
    files: flag(args, '--files', 0), batches: flag(args, '--batches', 2000),
  });
} else if (name === 'datawait') {
  result = await dataWaitBench({ batch: flag(args, '--batch', 256), steps: flag(args, '--steps', 6), threads: flag(args, '--threads', 2), workers: flag(args, '--workers', 1) });
} else if (name === 'methods') {
  const only = args.indexOf('--only');
  result = await methodsBench({
    only: only >= 0 ? args[only + 1] : undefined, batch: flag(args, '--batch', 256), steps: flag(args, '--steps', 4),
    warmup: flag(args, '--warmup', 2), rounds: flag(args, '--rounds', 3), threads: flag(args, '--threads', 2), peer: !args.includes('--no-peer'),
  });
} else if (name === 'parity') {
  result = await parityBench({ epochs: flag(args, '--epochs', 10), threads: flag(args, '--threads', 2), peer: !args.includes('--no-peer') });
} else if (name === 'distributed') {
  result = distributedBench({ steps: flag(args, '--steps', 12), batch: flag(args, '--batch', 128), perClass: flag(args, '--per-class', 256) });
} else if (name === 'quality') {
  const only = args.indexOf('--only');
  const override = args.indexOf('--override');
  result = await qualityBench({
    seeds: flag(args, '--seeds', 2), split: args.includes('--split') && args[args.indexOf('--split') + 1] === 'test' ? 'test' : 'validation',
    only: only >= 0 ? args[only + 1] : undefined, threads: flag(args, '--threads', 1), override: override >= 0 ? args[override + 1] : undefined,
  });
} else if (name === 'speedrun') {
  const option = (flagName: string) => (args.includes(flagName) ? args[args.indexOf(flagName) + 1] : undefined);
  result = await speedrunBench({
    recipe: option('--recipe') ?? 'cpu-30min', override: option('--override'), minutes: option('--minutes') !== undefined ? Number(option('--minutes')) : undefined,
    split: option('--split') === 'validation' ? 'validation' : 'test', curveEvery: flag(args, '--curve-every', 5), threads: flag(args, '--threads', 2),
    peer: !args.includes('--no-peer'),
  });
} else {
  console.error('usage: npm run bench -- engine|models|ops|memory|augment|photos|datawait|methods|parity|distributed|quality|speedrun [--json] [options]');
  process.exit(2);
}
// selfsup's side runs under tcmalloc when started by `npm run bench` (bin/node-with-tcmalloc), as the peers do.
result = { ...result, selfsup_malloc: processMalloc() };
if (json) console.log(JSON.stringify(result));
else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(24)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
