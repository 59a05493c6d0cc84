/**
 * Robustness to common corruptions (Hendrycks & Dietterich, 2019): a classifier's accuracy on
 * corrupted copies of a test set, made on the fly at the evaluation size (`corrupt`, 8 corruptions x
 * 5 severities, seeded), beside its clean accuracy. With the errors of a baseline classifier (the
 * supervised one, by the paper's protocol), each corruption's error is summed over severities and
 * divided by the baseline's, CE_c = sum_s E_s,c / sum_s E_s,c(baseline), and mCE is their mean (x 100
 * in the paper's tables; here a ratio, 1 = as robust as the baseline).
 *
 * ```ts
 * const report = await corruptionRobustness((x) => head.forward(backbone.forward(x)), test, view, { baseline });
 * report.accuracy.haze[2];   // severity 3
 * ```
 */
import { type ImageArray, gatherImages } from '../data/index.js';
import { Generator, type Tensor, noGrad, tidy } from '../tensor/index.js';
import { CORRUPTIONS, type Corruption, type ViewConfig, applyView, corrupt, normalize } from '../transforms/index.js';

export interface RobustnessOptions {
  corruptions?: readonly Corruption[];
  severities?: number[];
  batchSize?: number;
  seed?: number;
  /** a baseline's report (its `accuracy` per corruption and severity) for corruption errors and mCE */
  baseline?: Pick<RobustnessReport, 'accuracy'>;
  onProgress?: (done: number, total: number) => void;
}

export interface RobustnessReport {
  clean: number;
  /** accuracy by corruption, one entry per severity (in `severities` order) */
  accuracy: Record<string, number[]>;
  severities: number[];
  /** mean over corruptions and severities */
  meanCorrupted: number;
  /** CE_c relative to the baseline, and their mean */
  corruptionError?: Record<string, number>;
  mCE?: number;
}

/** `classify`: normalised images [B, 3, s, s] -> logits [B, C], its network in evaluation mode; `view` the evaluation view (its normalisation applied after corrupting). */
export async function corruptionRobustness(classify: (x: Tensor) => Tensor, images: ImageArray, view: ViewConfig, o: RobustnessOptions = {}): Promise<RobustnessReport> {
  if (!images.labels) throw new Error('robustness: the test images need labels');
  const corruptions = o.corruptions ?? CORRUPTIONS;
  const severities = o.severities ?? [1, 2, 3, 4, 5];
  const batchSize = o.batchSize ?? 256;
  const geometry: ViewConfig = { ...view, normalize: undefined };
  const labels = images.allLabels();
  const total = (corruptions.length * severities.length + 1) * images.length;
  let done = 0;
  // correct predictions on images corrupted by `damage` (identity for the clean pass)
  const accuracyUnder = async (damage: (x: Tensor) => Promise<Tensor>): Promise<number> => {
    let correct = 0;
    for (let start = 0; start < images.length; start += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, images.length - start) }, (_, i) => start + i);
      const pixels = tidy(() => applyView(gatherImages(images, indices), geometry)); // [b, 3, s, s] in [0, 1]
      const damaged = await damage(pixels);
      correct += tidy(() => noGrad(() => {
        const x = view.normalize ? normalize(damaged, view.normalize.mean, view.normalize.std) : damaged;
        return classify(x).argmax(1).eq(labels.narrow(0, start, indices.length)).sum().item();
      }));
      if (damaged !== pixels) damaged.dispose();
      pixels.dispose();
      done += indices.length;
      o.onProgress?.(done, total);
    }
    return correct / images.length;
  };
  try {
    const clean = await accuracyUnder(async (x) => x);
    const accuracy: Record<string, number[]> = {};
    for (const name of corruptions) {
      accuracy[name] = [];
      for (const severity of severities) {
        const generator = new Generator((o.seed ?? 0) * 1000 + CORRUPTIONS.indexOf(name) * 10 + severity);
        accuracy[name].push(await accuracyUnder((x) => corrupt(x, name, severity, generator)));
      }
    }
    const all = Object.values(accuracy).flat();
    const report: RobustnessReport = { clean, accuracy, severities, meanCorrupted: all.reduce((a, b) => a + b, 0) / all.length };
    if (o.baseline) {
      report.corruptionError = {};
      for (const name of corruptions) {
        const base = o.baseline.accuracy[name];
        if (!base || base.length !== severities.length) throw new Error(`robustness: the baseline has no '${name}' accuracies at ${severities.length} severities`);
        const errors = accuracy[name].reduce((a, acc) => a + (1 - acc), 0);
        const baseErrors = base.reduce((a, acc) => a + (1 - acc), 0);
        report.corruptionError[name] = errors / Math.max(baseErrors, 1e-12);
      }
      const ce = Object.values(report.corruptionError);
      report.mCE = ce.reduce((a, b) => a + b, 0) / ce.length;
    }
    return report;
  } finally {
    labels.dispose();
  }
}
