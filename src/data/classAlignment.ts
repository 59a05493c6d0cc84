/**
 * Labels matched by class name where two labelled sets meet (training and test images, a kNN bank
 * and its queries, a retrieval gallery and its queries). Each set numbers its own classes (sorted
 * folder names, CSV labels), so a test folder with 9 of the 10 training classes numbers them
 * differently: compared by number, 'cat' would be scored as 'bird'. `alignClasses` renumbers the
 * other set in the reference's class order. A class the reference does not have is dropped (its
 * images cannot be classified right, and are reported) or, for a retrieval gallery, kept under a
 * new number that no query has.
 *
 * ```ts
 * const { images: test, unmatched } = alignClasses(train, testImages, { unknown: 'drop' });
 * unmatched;   // { 'wolf': 12 }: 12 test images of a class the training set does not have
 * ```
 */
import type { ImageSet } from './streamedImages.js';

export interface AlignOptions {
  /** images of a class the reference lacks: 'drop' them (classification) or 'keep' them under new class numbers (retrieval) */
  unknown: 'drop' | 'keep';
}

export interface AlignedClasses<T extends ImageSet> {
  /** the other set, its labels in the reference's class order (classes: the reference's, then any kept new ones) */
  images: T;
  /** images per class name the reference lacks */
  unmatched: Record<string, number>;
}

export function alignClasses<T extends ImageSet>(reference: ImageSet, other: T, o: AlignOptions): AlignedClasses<T> {
  if (!reference.labels || !other.labels) throw new Error('alignClasses: both sets need labels');
  const same = reference.classes.length === other.classes.length && reference.classes.every((c, i) => c === other.classes[i]);
  // Sets without class names can only be matched by number.
  if (same || reference.classes.length === 0 || other.classes.length === 0) return { images: other, unmatched: {} };
  const classes = [...reference.classes];
  // the reference's number of each of the other set's classes (-1: it has none; 'keep' gives those new numbers)
  const renumber = other.classes.map((name) => classes.indexOf(name));
  const unmatched: Record<string, number> = {};
  for (const label of other.labels) {
    if (label >= other.classes.length) throw new Error(`alignClasses: label ${label} has no class name (${other.classes.length} classes)`);
    if (renumber[label] < 0) unmatched[other.classes[label]] = (unmatched[other.classes[label]] ?? 0) + 1;
  }
  if (o.unknown === 'keep') renumber.forEach((r, c) => { if (r < 0) renumber[c] = classes.push(other.classes[c]) - 1; });
  const labels = Int32Array.from(other.labels, (label) => renumber[label]);
  const kept = labels.every((l) => l >= 0) ? null : [...labels.keys()].filter((i) => labels[i] >= 0);
  if (kept !== null && kept.length === 0) {
    throw new Error(`none of the classes (${other.classes.join(', ')}) are among the ${reference.classes.length} reference classes (${reference.classes.join(', ')})`);
  }
  const source = (kept === null ? other : other.subset(kept)) as T;
  const keptLabels = kept === null ? labels : Int32Array.from(kept, (i) => labels[i]);
  return { images: source.withLabels(keptLabels, classes) as T, unmatched };
}

/** One line for a warning: "12 test images of classes the training set lacks (wolf 12) left out", or '' when none. */
export function describeUnmatched(unmatched: Record<string, number>, what: string, reference: string, action: string): string {
  const entries = Object.entries(unmatched);
  if (entries.length === 0) return '';
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `${total} ${what} of ${entries.length === 1 ? 'a class' : `${entries.length} classes`} the ${reference} lacks (${entries.map(([c, n]) => `${c} ${n}`).join(', ')}) ${action}`;
}
