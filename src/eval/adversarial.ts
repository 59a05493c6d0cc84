/**
 * Adversarial robustness under L-inf attacks on the pixels, through the engine's autograd:
 * FGSM (Goodfellow et al., 2015): one step x + eps * sign(grad_x loss); PGD (Madry et al., 2018):
 * `steps` steps of size `stepSize` (default 2.5 eps / steps) from a random start in the eps-ball,
 * each projected back onto the ball and onto [0, 1]. The classifier's accuracy on the attacked test
 * images is reported per attack and epsilon, beside its clean accuracy; epsilons are in pixel units
 * of [0, 1] images (8/255 is CIFAR's usual budget).
 *
 * ```ts
 * const report = adversarialRobustness((x) => head.forward(backbone.forward(normalize(x, mean, std))), test, view, { epsilons: [1 / 255, 4 / 255] });
 * report.pgd['0.01569'];   // accuracy under PGD at 4/255
 * ```
 */
import { type ImageArray, gatherImages } from '../data/index.js';
import { Generator, type Tensor, crossEntropy, enableGrad, gradients, noGrad, rand, tidy } from '../tensor/index.js';
import { type ViewConfig, applyView } from '../transforms/index.js';

/** images in [0, 1] [B, 3, s, s] -> logits [B, C]; the normalisation is the classifier's business. */
export type PixelClassifier = (pixels: Tensor) => Tensor;

/** d(sum of cross-entropies)/d(pixels): [B, 3, s, s]. */
function inputGradient(classify: PixelClassifier, pixels: Tensor, labels: Tensor): Tensor {
  return tidy(() => enableGrad(() => {
    const x = pixels.detach().requiresGrad_(true);
    const loss = crossEntropy(classify(x), labels, { reduction: 'sum' });
    return gradients([loss], [x])[0]!;
  }));
}

/** FGSM: one signed-gradient step of size epsilon, clamped to [0, 1]. */
export function fgsm(classify: PixelClassifier, pixels: Tensor, labels: Tensor, epsilon: number): Tensor {
  if (!(epsilon >= 0)) throw new Error(`fgsm: epsilon must be >= 0, got ${epsilon}`);
  return tidy(() => pixels.add(inputGradient(classify, pixels, labels).sign().mul(epsilon)).clamp(0, 1));
}

export interface PgdOptions {
  epsilon: number;
  steps?: number;
  /** default 2.5 * epsilon / steps (Madry et al.) */
  stepSize?: number;
  /** start at a uniform random point of the ball (default true) */
  randomStart?: boolean;
  generator?: Generator;
}

/** PGD: projected signed-gradient ascent on the loss within the L-inf ball of radius epsilon around `pixels`, inside [0, 1]. */
export function pgd(classify: PixelClassifier, pixels: Tensor, labels: Tensor, o: PgdOptions): Tensor {
  const steps = o.steps ?? 10;
  if (!(o.epsilon >= 0)) throw new Error(`pgd: epsilon must be >= 0, got ${o.epsilon}`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`pgd: steps must be an integer >= 1, got ${steps}`);
  const stepSize = o.stepSize ?? (2.5 * o.epsilon) / steps;
  return tidy(() => {
    const [low, high] = [pixels.sub(o.epsilon).clamp(0, 1), pixels.add(o.epsilon).clamp(0, 1)];
    let x = o.randomStart ?? true
      ? pixels.add(rand(pixels.shape as number[], { generator: o.generator }).mul(2 * o.epsilon).sub(o.epsilon)).clamp(0, 1)
      : pixels;
    for (let i = 0; i < steps; i++) {
      const next = x.add(inputGradient(classify, x, labels).sign().mul(stepSize));
      x = next.maximum(low).minimum(high);
    }
    return x;
  });
}

export interface AdversarialOptions {
  epsilons: number[];
  attacks?: ('fgsm' | 'pgd')[];
  steps?: number;
  stepSize?: number;
  batchSize?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface AdversarialReport {
  clean: number;
  epsilons: number[];
  /** accuracy per attack, one entry per epsilon (in `epsilons` order) */
  accuracy: Record<string, number[]>;
  pgdSteps: number;
}

/** The classifier's accuracy on the test images (`view` without its normalisation) under each attack and epsilon. */
export function adversarialRobustness(classify: PixelClassifier, images: ImageArray, view: ViewConfig, o: AdversarialOptions): AdversarialReport {
  if (!images.labels) throw new Error('adversarial: the test images need labels');
  const attacks = o.attacks ?? ['fgsm', 'pgd'];
  const batchSize = o.batchSize ?? 128;
  const geometry: ViewConfig = { ...view, normalize: undefined };
  const generator = new Generator(o.seed ?? 0);
  const correct: Record<string, number[]> = Object.fromEntries(attacks.map((a) => [a, o.epsilons.map(() => 0)]));
  let clean = 0;
  const allLabels = images.allLabels();
  for (let start = 0; start < images.length; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, images.length - start) }, (_, i) => start + i);
    tidy(() => {
      const pixels = applyView(gatherImages(images, indices), geometry);
      const labels = allLabels.narrow(0, start, indices.length);
      const hits = (x: Tensor) => noGrad(() => classify(x).argmax(1).eq(labels).sum().item());
      clean += hits(pixels);
      for (const attack of attacks) {
        o.epsilons.forEach((epsilon, e) => {
          const attacked = attack === 'fgsm' ? fgsm(classify, pixels, labels, epsilon) : pgd(classify, pixels, labels, { epsilon, steps: o.steps, stepSize: o.stepSize, generator });
          correct[attack][e] += hits(attacked);
        });
      }
    });
    o.onProgress?.(start + indices.length, images.length);
  }
  allLabels.dispose();
  return {
    clean: clean / images.length, epsilons: o.epsilons, pgdSteps: o.steps ?? 10,
    accuracy: Object.fromEntries(Object.entries(correct).map(([a, c]) => [a, c.map((n) => n / images.length)])),
  };
}
