/**
 * `selfsup eval adversarial --checkpoint <run> --train <spec> --test <spec>`: trains the classifier
 * (linear probe, or --finetune [--scratch]) on the clean training images, then reports its accuracy
 * on the test images under FGSM and PGD (L-inf) at each --epsilons budget.
 */
import { adversarialRobustness } from '../eval/index.js';
import { writeTextFile } from '../io/index.js';
import { tidy } from '../tensor/index.js';
import { normalize } from '../transforms/index.js';
import { CLASSIFIER_OPTIONS, CLASSIFIER_USAGE, trainEvalClassifier } from './evalClassifier.js';
import { UsageError, applyThreadsOption, integerOption, parseOptions, requireString } from './options.js';

export const ADVERSARIAL_USAGE = `usage: selfsup eval adversarial --checkpoint <file> --train <spec> --test <spec> [options]

${CLASSIFIER_USAGE}
  --epsilons <list>  L-inf budgets in pixel units of [0, 1], fractions allowed (default 1/255,2/255,4/255,8/255)
  --attacks <list>   fgsm,pgd (default both)   --steps <n>  PGD steps (default 10; step size 2.5 eps / steps)
  --out <file.json>  the report  --threads <n>  --seed <n>`;

/** '1/255,0.01' -> [0.00392, 0.01]. */
function parseEpsilons(text: string): number[] {
  const values = text.split(',').map((part) => {
    const [a, b] = part.split('/');
    return b === undefined ? Number(a) : Number(a) / Number(b);
  });
  if (values.length === 0 || values.some((e) => !(Number.isFinite(e) && e >= 0 && e <= 1))) {
    throw new UsageError(`--epsilons ${text}: expected budgets in [0, 1] separated by commas, e.g. 1/255,4/255,0.03`);
  }
  return values;
}

export async function adversarialCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, { ...CLASSIFIER_OPTIONS, epsilons: { type: 'string' }, attacks: { type: 'string' }, steps: { type: 'string' }, out: { type: 'string' } });
  const checkpoint = requireString(v, 'checkpoint');
  const epsilons = parseEpsilons(typeof v.epsilons === 'string' ? v.epsilons : '1/255,2/255,4/255,8/255');
  const attacks = (typeof v.attacks === 'string' ? v.attacks.split(',') : ['fgsm', 'pgd']) as ('fgsm' | 'pgd')[];
  if (attacks.some((a) => a !== 'fgsm' && a !== 'pgd')) throw new UsageError(`--attacks ${String(v.attacks)}: expected fgsm, pgd or both`);
  const steps = integerOption(v, 'steps', 10);
  applyThreadsOption(v);
  const { classify, name, cleanTop1, test, view, specs, dispose } = await trainEvalClassifier(v, checkpoint, 'adversarial');
  try {
    const stats = view.normalize;
    const fromPixels = (x: Parameters<typeof classify>[0]) => tidy(() => classify(stats ? normalize(x, stats.mean, stats.std) : x));
    const report = adversarialRobustness(fromPixels, test, view, {
      epsilons, attacks, steps, seed: integerOption(v, 'seed', 0, 0),
      onProgress: (done, total) => process.stderr.write(`adversarial: ${done}/${total} test images\n`),
    });
    console.log(`adversarial (${name}): clean ${(100 * report.clean).toFixed(2)}%`);
    for (const [attack, accs] of Object.entries(report.accuracy)) {
      console.log(`  ${attack.padEnd(5)} ${epsilons.map((e, i) => `eps ${(255 * e).toFixed(1)}/255: ${(100 * accs[i]).toFixed(1)}%`).join('  ')}`);
    }
    if (typeof v.out === 'string') writeTextFile(v.out, JSON.stringify({ kind: 'adversarial', checkpoint, ...specs, classifier: name, cleanTop1, ...report }, null, 2) + '\n');
  } finally {
    dispose();
  }
}
