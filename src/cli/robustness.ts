/**
 * `selfsup eval robustness --checkpoint <run> --train <spec> --test <spec>`: trains a classifier on
 * the clean training images (a linear probe on frozen features, or with --finetune the whole network,
 * with --scratch from random weights: the supervised baseline), then measures its accuracy on the
 * test images under 8 corruptions x 5 severities made on the fly (CIFAR-10-C style). With
 * `--baseline <report.json>` (another run's report, e.g. the supervised one) it adds each
 * corruption's error relative to the baseline and their mean, mCE. `--picture` shows the
 * corruptions at one severity.
 */
import { readFileSync } from 'node:fs';
import { corruptionRobustness } from '../eval/index.js';
import { imageGrid, writePng, writeTextFile } from '../io/index.js';
import { Generator, tidy } from '../tensor/index.js';
import { CORRUPTIONS, applyView, corruptionGallery } from '../transforms/index.js';
import { CLASSIFIER_OPTIONS, CLASSIFIER_USAGE, trainEvalClassifier } from './evalClassifier.js';
import { applyThreadsOption, integerOption, parseOptions, requireString } from './options.js';

export const ROBUSTNESS_USAGE = `usage: selfsup eval robustness --checkpoint <file> --train <spec> --test <spec> [options]

  corruptions: ${CORRUPTIONS.join(', ')}; severities 1-5
${CLASSIFIER_USAGE}
  --baseline <file>  a report of this command for the baseline classifier: adds CE per corruption and mCE
  --picture <file>   a PNG of some test images under every corruption (--severity, default 3)
  --out <file.json>  the report  --threads <n>  --seed <n>`;

export async function robustnessCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, { ...CLASSIFIER_OPTIONS, baseline: { type: 'string' }, picture: { type: 'string' }, severity: { type: 'string' }, out: { type: 'string' } });
  const checkpoint = requireString(v, 'checkpoint');
  applyThreadsOption(v);
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
  const { classify, name, cleanTop1, test, view, run, specs, dispose } = await trainEvalClassifier(v, checkpoint, 'robustness');
  const report = await corruptionRobustness(classify, test, view, {
    seed, baseline, onProgress: (done, total) => { if (done % (20 * 256) < 256 || done === total) process.stderr.write(`robustness: ${done}/${total} images\n`); },
  });
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
  if (typeof v.out === 'string') writeTextFile(v.out, JSON.stringify({ kind: 'robustness', checkpoint, ...specs, classifier: name, cleanTop1, ...report }, null, 2) + '\n');
  dispose();
}
