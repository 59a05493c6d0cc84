/**
 * `selfsup eval robustness --checkpoint <run> --train <spec> --test <spec>`: trains a classifier on
 * the clean training images (a linear probe on frozen features, or with --finetune the whole network,
 * with --scratch from random weights: the supervised baseline), then measures its accuracy on the
 * test images under 8 corruptions x 5 severities made on the fly (CIFAR-10-C style). With
 * `--baseline <report.json>` (another run's report, e.g. the supervised one) it adds each
 * corruption's error relative to the baseline and their mean, mCE. `--picture` shows the
 * corruptions at one severity.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { openImages } from '../data/index.js';
import { corruptionRobustness, extractFeatures, finetune, linearProbe } from '../eval/index.js';
import { imageGrid, writePng } from '../io/index.js';
import type { Layer } from '../nn/index.js';
import { buildBackbone } from '../models/index.js';
import { Generator, type Tensor, setNumThreads, tidy } from '../tensor/index.js';
import { CORRUPTIONS, applyView, corruptionGallery, methodViews } from '../transforms/index.js';
import { integerOption, numberOption, parseOptions, requireString } from './options.js';
import { loadRunBackbone } from './runBackbone.js';
import { withLabelFraction } from './labelFraction.js';

export const ROBUSTNESS_USAGE = `usage: selfsup eval robustness --checkpoint <file> --train <spec> --test <spec> [options]

  corruptions: ${CORRUPTIONS.join(', ')}; severities 1-5
  --finetune         fine-tune the whole network (default: a linear probe on frozen features)
  --scratch          with --finetune: from random weights (the supervised baseline)
  --epochs <n>       (linear 100, finetune 30)  --lr <x>  --batch-size <n>  --labels <fraction of the training labels>
  --baseline <file>  a report of this command for the baseline classifier: adds CE per corruption and mCE
  --picture <file>   a PNG of some test images under every corruption (--severity, default 3)
  --out <file.json>  the report  --threads <n>  --seed <n>`;

export async function robustnessCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, {
    checkpoint: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, finetune: { type: 'boolean' }, scratch: { type: 'boolean' },
    epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' }, baseline: { type: 'string' }, picture: { type: 'string' },
    severity: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' }, labels: { type: 'string' },
  });
  const checkpoint = requireString(v, 'checkpoint');
  if (v.threads !== undefined) setNumThreads(integerOption(v, 'threads', 1));
  const seed = integerOption(v, 'seed', 0, 0);
  let baseline: { accuracy: Record<string, number[]> } | undefined;
  if (typeof v.baseline === 'string') {
    try {
      baseline = JSON.parse(readFileSync(v.baseline, 'utf8')) as { accuracy: Record<string, number[]> };
    } catch (error) {
      throw new Error(`--baseline ${v.baseline}: ${(error as Error).message}`);
    }
    if (typeof baseline?.accuracy !== 'object') throw new Error(`--baseline ${v.baseline}: not a robustness report (no "accuracy" by corruption)`);
  }
  const { backbone, featureDim, run } = loadRunBackbone(checkpoint);
  const [allTrain, test] = [await openImages(requireString(v, 'train'), { size: run.size }), await openImages(requireString(v, 'test'), { size: run.size })];
  if (!allTrain.labels || !test.labels) throw new Error('--train and --test must have labels (class folders, a CSV, CIFAR, ...)');
  const train = withLabelFraction(allTrain, v, 'robustness');
  let numClasses = train.classes.length;
  for (const label of train.labels!) numClasses = Math.max(numClasses, label + 1);
  const view = methodViews('eval', { size: run.size, normalize: run.normalize }).views[0];
  const finetuned = v.finetune === true;
  const scratch = finetuned && v.scratch === true;
  let classify: (x: Tensor) => Tensor;
  let release: Layer;
  let cleanTop1: number;
  if (finetuned) {
    const net = scratch ? buildBackbone(run.backboneSpec, new Generator(seed)).backbone : backbone;
    const result = await finetune(net, train, test, {
      numClasses, featureDim, epochs: integerOption(v, 'epochs', 30), lr: numberOption(v, 'lr', 0.05), batchSize: integerOption(v, 'batch-size', 128),
      backboneLrScale: scratch ? 1 : 0.1, seed, views: { train: methodViews('supervised', { size: run.size, normalize: run.normalize }).views[0], test: view },
      onEpoch: (epoch, loss) => process.stderr.write(`finetune epoch ${epoch + 1}: loss ${loss.toFixed(4)}\n`),
    });
    classify = (x) => result.model.forward(x);
    release = result.model;
    cleanTop1 = result.report.top1;
  } else {
    const probe = tidy(() => linearProbe(extractFeatures(backbone, train, { view }), train.allLabels(), extractFeatures(backbone, test, { view }), test.allLabels(), {
      numClasses, epochs: integerOption(v, 'epochs', 100), lr: numberOption(v, 'lr', 0.1), batchSize: integerOption(v, 'batch-size', 256), seed,
    }));
    classify = (x) => tidy(() => probe.head.forward(backbone.forward(x)));
    release = probe.head;
    cleanTop1 = probe.report.top1;
  }
  // batch norm in evaluation form: the probe's features and the fine-tuned model's test accuracy were measured so
  backbone.eval();
  release.eval();
  const report = await corruptionRobustness(classify, test, view, {
    seed, baseline, onProgress: (done, total) => { if (done % (20 * 256) < 256 || done === total) process.stderr.write(`robustness: ${done}/${total} images\n`); },
  });
  const name = finetuned ? (scratch ? 'fine-tuned from scratch' : 'fine-tuned') : 'linear probe';
  console.log(`robustness (${name}): clean ${(100 * report.clean).toFixed(2)}%, mean over corruptions and severities ${(100 * report.meanCorrupted).toFixed(2)}%${report.mCE !== undefined ? `, mCE ${report.mCE.toFixed(3)} of the baseline` : ''}`);
  for (const [corruption, accs] of Object.entries(report.accuracy)) {
    console.log(`  ${corruption.padEnd(15)} ${accs.map((a) => `${(100 * a).toFixed(1)}%`.padStart(6)).join(' ')}${report.corruptionError ? `   CE ${report.corruptionError[corruption].toFixed(3)}` : ''}`);
  }
  if (typeof v.picture === 'string') {
    const severity = integerOption(v, 'severity', 3);
    const shown = test.spread(6);
    const pixels = tidy(() => applyView(test.batch(shown), { ...view, normalize: undefined }));
    const columns = await corruptionGallery(pixels, severity, new Generator(seed));
    const grid = tidy(() => imageGrid(columns, Math.max(64, run.size)));
    await writePng(v.picture, grid);
    for (const t of [pixels, grid, ...columns]) t.dispose();
    console.log(`wrote ${v.picture}: ${shown.length} test images x [clean, ${CORRUPTIONS.join(', ')}] at severity ${severity}`);
  }
  if (typeof v.out === 'string') writeFileSync(v.out, JSON.stringify({ kind: 'robustness', checkpoint, classifier: name, cleanTop1, ...report }, null, 2) + '\n');
  release.dispose();
  backbone.dispose();
}
