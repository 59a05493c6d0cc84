/**
 * `selfsup eval knn|linear|finetune` and `selfsup embed`: the backbone of a pretraining
 * checkpoint on labelled data (or any data, for embed), with the run's own size and normalisation.
 */
import { openImageSet } from '../data/index.js';
import { type ClassificationReport, FINETUNE_LR, FINETUNE_RECIPES, extractSetFeatures, finetune, knnAccuracy, linearProbe } from '../eval/index.js';
import { atomicWriteFile, csvLines, writeNpy, writeSafetensors, writeTextFile } from '../io/index.js';
import { buildBackbone } from '../models/index.js';
import { Generator, PRECISIONS, type Tensor, defaultDevice, resolvePrecision, tidy } from '../tensor/index.js';
import { backboneFamily, methodViews } from '../methods/index.js';
import { UsageError, applyThreadsOption, checkOutputPaths, choiceOption, integerOption, numberOption, parseOptions, perCoreOption, requireString } from './options.js';
import { ADVERSARIAL_USAGE, adversarialCommand } from './adversarial.js';
import { DETECTION_USAGE, detectionCommand } from './detection.js';
import { RETRIEVAL_USAGE, retrievalCommand } from './retrieval.js';
import { ROBUSTNESS_USAGE, robustnessCommand } from './robustness.js';
import { SEGMENTATION_USAGE, segmentationCommand } from './segmentation.js';
import { openLabelledSets } from './labelledData.js';
import { loadRunBackbone } from '../runs/index.js';

export const EVAL_USAGE = `usage: selfsup eval knn|linear|finetune --checkpoint <file> --train <spec> --test <spec> [options]
       selfsup embed --checkpoint <file> --data <spec> --out <prefix>

  knn        weighted kNN on frozen features (--k 200, --temperature 0.1)
  linear     linear probe on frozen features (--epochs 100, --lr 0.1, --batch-size 256); precomputed
             features, or with --augment random resized crops + flips of a frozen backbone
  finetune   all layers, backbone at 0.1x the head's rate (--epochs 30, --lr 0.05, --batch-size 128);
             --scratch trains the same architecture from random weights (the supervised baseline);
             a ViT gets the MAE/BEiT recipe: --optimizer adamw --lr 5e-4 --layer-decay 0.75 --drop-path 0.1
             --label-smoothing 0.1 --warmup-epochs 3 (each flag overrides; --optimizer sgd for the ResNet recipe)
  --precision <p>    frozen features (knn, linear): auto (default: bfloat16 autocast where pretrain would use it,
                     faster; the features and the probe in float32), fp32 or bf16
  --labels <f>       train the linear probe / fine-tuning on a seeded, class-balanced fraction of the labels (0.01, 0.1)
  --out <file.json>  the report (eval); embed writes <prefix>.safetensors (embeddings, labels; paths in the
                     metadata), <prefix>.npy (numpy.load), <prefix>.json (paths, labels, embeddings), <prefix>.csv
                     (RFC 4180; a name that starts like a spreadsheet formula gets a leading ' there, the JSON has it exact)
  --threads <n>  --workers <n>  --seed <n>

${RETRIEVAL_USAGE.replace('usage: ', '')}

${ROBUSTNESS_USAGE.replace('usage: ', '')}

${ADVERSARIAL_USAGE.replace('usage: ', '')}

${SEGMENTATION_USAGE.replace('usage: ', '')}

${DETECTION_USAGE.replace('usage: ', '')}`;

function printReport(name: string, report: ClassificationReport & Record<string, unknown>, classes: string[]): void {
  console.log(`${name}: top-1 ${(100 * report.top1).toFixed(2)}%, top-5 ${(100 * report.top5).toFixed(2)}%`);
  if (report.perClass.length > 0) console.log(report.perClass.map((a, c) => `  ${(classes[c] ?? String(c)).padEnd(12)} ${(100 * a).toFixed(1)}%`).join('\n'));
}

export async function evalCommand(argv: string[]): Promise<void> {
  const [kind, ...rest] = argv;
  if (kind === 'retrieval') return retrievalCommand(rest);
  if (kind === 'robustness') return robustnessCommand(rest);
  if (kind === 'segmentation') return segmentationCommand(rest);
  if (kind === 'adversarial') return adversarialCommand(rest);
  if (kind === 'detection') return detectionCommand(rest);
  if (kind !== 'knn' && kind !== 'linear' && kind !== 'finetune') throw new UsageError(`expected knn, linear, finetune, retrieval, robustness, adversarial, segmentation or detection, got '${kind ?? ''}'`);
  const v = parseOptions(rest, {
    checkpoint: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, out: { type: 'string' },
    k: { type: 'string' }, temperature: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' },
    'batch-size': { type: 'string' }, scratch: { type: 'boolean' }, optimizer: { type: 'string' }, 'layer-decay': { type: 'string' },
    'drop-path': { type: 'string' }, 'label-smoothing': { type: 'string' }, 'warmup-epochs': { type: 'string' }, augment: { type: 'boolean' }, threads: { type: 'string' }, workers: { type: 'string' }, seed: { type: 'string' },
    labels: { type: 'string' }, precision: { type: 'string' },
  });
  const checkpoint = requireString(v, 'checkpoint');
  const frozenFeatures = kind === 'knn' || (kind === 'linear' && v.augment !== true);
  if (v.precision !== undefined && !frozenFeatures) throw new UsageError(`--precision is for frozen features (knn, linear without --augment), not ${kind}${v.augment ? ' --augment' : ''}`);
  const precision = resolvePrecision(choiceOption(v, 'precision', PRECISIONS, 'auto'), defaultDevice());
  applyThreadsOption(v);
  const { backbone, featureDim, run } = loadRunBackbone(checkpoint);
  const { train, test, numClasses, unmatchedTestClasses, specs } = await openLabelledSets(v, run.size, kind);
  const view = methodViews('eval', { size: run.size, normalize: run.normalize }).views[0];
  let report: ClassificationReport & Record<string, unknown>;
  // the images evaluated (streamed photos that could not be read are left out)
  let counted = { trainImages: train.length, testImages: test.length };
  if (frozenFeatures) {
    const workers = v.workers === undefined ? undefined : perCoreOption(v, 'workers', 1, 0);
    const trainSet = await extractSetFeatures(backbone, train, { view, precision, workers });
    const testSet = await extractSetFeatures(backbone, test, { view, precision, workers });
    counted = { trainImages: trainSet.indices.length, testImages: testSet.indices.length };
    const result = tidy(() => {
      const [trainFeatures, testFeatures] = [trainSet.features, testSet.features];
      const [trainLabels, testLabels] = [train.batchLabels(trainSet.indices), test.batchLabels(testSet.indices)];
      if (kind === 'knn') {
        const acc = knnAccuracy(trainFeatures, trainLabels, testFeatures, testLabels, { k: integerOption(v, 'k', 200), temperature: numberOption(v, 'temperature', 0.1), numClasses });
        return { ...acc, perClass: [], confusion: [], k: integerOption(v, 'k', 200) } as ClassificationReport & Record<string, unknown>;
      }
      const probe = linearProbe(trainFeatures, trainLabels, testFeatures, testLabels, {
        numClasses, epochs: integerOption(v, 'epochs', 100), lr: numberOption(v, 'lr', 0.1), batchSize: integerOption(v, 'batch-size', 256), seed: integerOption(v, 'seed', 0, 0),
      });
      probe.head.dispose();
      return { ...probe.report, trainLoss: probe.losses };
    });
    trainSet.features.dispose();
    testSet.features.dispose();
    report = { ...result, precision };
  } else {
    const scratch = kind === 'finetune' && v.scratch === true;
    const frozen = kind === 'linear';
    const net = scratch ? buildBackbone(run.backboneSpec, new Generator(integerOption(v, 'seed', 0, 0))).backbone : backbone;
    const normalize = run.normalize;
    // The backbone family's fine-tuning recipe unless flags say otherwise (no layer decay from scratch); the
    // linear probe on augmented views keeps the linear protocol's defaults.
    const recipe = FINETUNE_RECIPES[backboneFamily(run.backboneSpec.name)];
    const optimizer = choiceOption(v, 'optimizer', ['sgd', 'adamw'] as const, frozen ? 'sgd' : recipe.optimizer);
    const vitOnly = (flag: 'layer-decay' | 'drop-path', fallback: number | undefined) => {
      if (v[flag] !== undefined && !run.backboneSpec.name.startsWith('vit_')) throw new UsageError(`--${flag} is for ViT backbones; this run's is ${run.backboneSpec.name}`);
      return v[flag] !== undefined ? numberOption(v, flag, 0) : fallback;
    };
    const result = await finetune(net, train, test, {
      optimizer, layerDecay: vitOnly('layer-decay', frozen || scratch ? undefined : recipe.layerDecay), dropPath: vitOnly('drop-path', frozen ? undefined : recipe.dropPath),
      labelSmoothing: numberOption(v, 'label-smoothing', frozen ? 0 : recipe.labelSmoothing), warmupEpochs: numberOption(v, 'warmup-epochs', frozen ? 0 : recipe.warmupEpochs),
      numClasses, featureDim, epochs: integerOption(v, 'epochs', frozen ? 100 : recipe.epochs), lr: numberOption(v, 'lr', frozen ? 0.1 : FINETUNE_LR[optimizer]),
      batchSize: integerOption(v, 'batch-size', frozen ? 256 : recipe.batchSize), backboneLrScale: scratch ? 1 : recipe.backboneLrScale, freezeBackbone: frozen, seed: integerOption(v, 'seed', 0, 0), workers: v.workers === undefined ? undefined : perCoreOption(v, 'workers', 1, 0),
      views: { train: methodViews('supervised', { size: run.size, normalize }).views[0], test: view },
      onEpoch: (epoch, loss) => process.stderr.write(`${kind} epoch ${epoch + 1}: loss ${loss.toFixed(4)}\n`),
    });
    report = { ...result.report, trainLoss: result.losses, scratch, augmented: true };
  }
  printReport(`${kind}${v.scratch ? ' (from scratch)' : ''}`, report, train.classes);
  if (typeof v.out === 'string') writeTextFile(v.out, JSON.stringify({ kind, checkpoint, train: specs.train, test: specs.test, labelFraction: numberOption(v, 'labels', 1), ...counted, unmatchedTestClasses, ...report }, null, 2) + '\n');
}

const EMBED_EXTENSIONS = ['.safetensors', '.npy', '.json', '.csv'];

export async function embedCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, { checkpoint: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' } });
  const checkpoint = requireString(v, 'checkpoint');
  const dataSpec = requireString(v, 'data');
  const out = requireString(v, 'out');
  checkOutputPaths(...EMBED_EXTENSIONS.map((ext) => `${out}${ext}`));
  applyThreadsOption(v);
  const { backbone, run } = loadRunBackbone(checkpoint);
  const images = await openImageSet(dataSpec, { size: run.size });
  const view = methodViews('eval', { size: run.size, normalize: run.normalize }).views[0];
  const { features, indices } = await extractSetFeatures(backbone, images, { view });
  const sources = Array.from(indices, (i) => images.sources?.[i] ?? `${dataSpec}#${i}`);
  const labelNames = images.labels ? Array.from(indices, (i) => images.classes[images.labels![i]] ?? String(images.labels![i])) : undefined;
  const tensors: Record<string, Tensor> = { embeddings: features };
  if (images.labels) tensors.labels = images.batchLabels(indices);
  writeSafetensors(`${out}.safetensors`, tensors, { checkpoint, data: dataSpec, paths: JSON.stringify(sources), ...(labelNames ? { classes: JSON.stringify(images.classes) } : {}) });
  writeNpy(`${out}.npy`, features);
  // JSON for JavaScript without a safetensors reader: one row per image, in the order of the arrays.
  const rows = features.toArray() as number[][];
  const items = sources.map((path, i) => ({ index: i, path, ...(labelNames ? { label: labelNames[i] } : {}), embedding: rows[i] }));
  atomicWriteFile(`${out}.json`, [Buffer.from(JSON.stringify({ checkpoint, data: dataSpec, count: indices.length, dim: features.size(1), items }) + '\n')]);
  writeTextFile(`${out}.csv`, csvLines([['index', 'path', 'label'], ...sources.map((p, i) => [i, p, labelNames?.[i] ?? ''])]));
  console.log(`wrote ${indices.length} embeddings of size ${features.size(1)} (rows in the order of ${out}.csv): ${out}.safetensors, ${out}.npy, ${out}.json, ${out}.csv`);
  features.dispose();
}
