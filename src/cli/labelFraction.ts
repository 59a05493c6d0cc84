/**
 * `--labels <fraction>` of the eval commands: train on a seeded, class-balanced share of the labels
 * (SimCLR's 1% / 10% setting), reported on stderr.
 */
import { type ImageArray, labelSubset } from '../data/index.js';
import { UsageError, integerOption, numberOption } from './options.js';

/** `--labels <fraction>`: a seeded, class-balanced share of the training labels (the low-label setting). */
export function withLabelFraction(train: ImageArray, v: Record<string, unknown>, kind: string): ImageArray {
  if (v.labels === undefined) return train;
  const fraction = numberOption(v, 'labels', 1);
  if (!(fraction > 0 && fraction <= 1)) throw new UsageError(`--labels must be a fraction in (0, 1], e.g. 0.01 or 0.1, got ${String(v.labels)}`);
  const subset = fraction === 1 ? train : train.subset(labelSubset(train, fraction, integerOption(v, 'seed', 0, 0)));
  process.stderr.write(`${kind}: ${(100 * fraction).toFixed(fraction < 0.1 ? 1 : 0)}% of the labels: ${subset.length} of ${train.length} training images\n`);
  return subset;
}
