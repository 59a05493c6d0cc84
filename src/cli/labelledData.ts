/**
 * The labelled data of the eval commands: `--train` and `--test` opened at the run's size (both must
 * have labels; the test labels renumbered to the training classes by name, test images of a class
 * the training set lacks left out and reported), `--labels <fraction>` applied to the training set
 * (a seeded, class-balanced share: SimCLR's 1% / 10% setting, reported on stderr), and the number
 * of classes.
 */
import { type ImageArray, type ImageSet, alignClasses, describeUnmatched, labelSubset, openImageSet, openImages } from '../data/index.js';
import { UsageError, integerOption, numberOption, requireString } from './options.js';

/** `--labels <fraction>`: a seeded, class-balanced share of the training labels (the low-label setting). */
export function withLabelFraction<T extends ImageSet>(train: T, v: Record<string, unknown>, kind: string): T {
  if (v.labels === undefined) return train;
  const fraction = numberOption(v, 'labels', 1);
  if (!(fraction > 0 && fraction <= 1)) throw new UsageError(`--labels must be a fraction in (0, 1], e.g. 0.01 or 0.1, got ${String(v.labels)}`);
  const subset = fraction === 1 ? train : train.subset(labelSubset(train, fraction, integerOption(v, 'seed', 0, 0))) as T;
  process.stderr.write(`${kind}: ${(100 * fraction).toFixed(fraction < 0.1 ? 1 : 0)}% of the labels: ${subset.length} of ${train.length} training images\n`);
  return subset;
}

/** Named classes, else the largest label + 1 (a loop: spreading a large label array overflows the call stack). */
export function classCount(images: ImageSet): number {
  let count = images.classes.length;
  for (const label of images.labels ?? []) count = Math.max(count, label + 1);
  return count;
}

export interface LabelledData<T extends ImageSet = ImageArray> {
  /** the training images (the --labels share of them) */
  train: T;
  test: T;
  numClasses: number;
  /** test images left out per class name the training set lacks */
  unmatchedTestClasses: Record<string, number>;
  /** the --train and --test specs */
  specs: { train: string; test: string };
}

/** The labelled data, decoded into memory at the run's size (what robustness and adversarial evaluation need). */
export async function openLabelledData(v: Record<string, unknown>, size: number, kind: string): Promise<LabelledData<ImageArray>> {
  return openLabelled(v, kind, (spec) => openImages(spec, { size }));
}

/** The labelled data, photos streamed from disk at their own resolution (kNN, linear probe, fine-tuning). */
export async function openLabelledSets(v: Record<string, unknown>, size: number, kind: string): Promise<LabelledData<ImageSet>> {
  return openLabelled(v, kind, (spec) => openImageSet(spec, { size }));
}

async function openLabelled<T extends ImageSet>(v: Record<string, unknown>, kind: string, open: (spec: string) => Promise<T>): Promise<LabelledData<T>> {
  const specs = { train: requireString(v, 'train'), test: requireString(v, 'test') };
  const [allTrain, allTest] = [await open(specs.train), await open(specs.test)];
  if (!allTrain.labels || !allTest.labels) throw new Error('--train and --test must have labels (class folders, a CSV, CIFAR, ...)');
  const { images: test, unmatched } = alignClasses(allTrain, allTest, { unknown: 'drop' });
  const leftOut = describeUnmatched(unmatched, 'test images', 'training set', 'are left out: they cannot be classified right');
  if (leftOut) process.stderr.write(`${kind}: ${leftOut}\n`);
  const train = withLabelFraction(allTrain, v, kind);
  return { train, test, numClasses: Math.max(classCount(allTrain), classCount(test)), unmatchedTestClasses: unmatched, specs };
}
