/**
 * Training a VQ-VAE visual tokenizer (for BEiT's targets) as a method, so that the trainer gives it
 * what every run has: schedules, atomic checkpoints and resume, progress, metrics.jsonl and
 * TensorBoard curves, here of the reconstruction error, the codebook perplexity, the fraction of
 * codes in use and the codes restarted per step.
 *
 * ```ts
 * const training = new TokenizerTraining(new VQTokenizer({ patchSize: 4, vocabulary: 512, normalize }));
 * await pretrain(training, images, { views: [view] }, options);
 * training.tokenizer.save('tok.safetensors');
 * ```
 */
import type { Layer } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import type { VQTokenizer } from '../tokenizers/index.js';
import { type MethodStep, SSLMethod } from './method.js';

export class TokenizerTraining extends SSLMethod {
  readonly backbone: Layer;
  override readonly backboneKey = 'tokenizer.encoder';

  constructor(readonly tokenizer: VQTokenizer) {
    super();
    this.registerModule('tokenizer', tokenizer);
    this.backbone = tokenizer.encoder;
  }

  step(views: Tensor[]): MethodStep {
    const r = this.tokenizer.trainingLoss(views[0]);
    return {
      loss: r.loss,
      metrics: { 'tokenizer/reconstruction': r.reconstruction, 'tokenizer/perplexity': r.perplexity, 'tokenizer/used': r.used, 'tokenizer/restarted': r.restarted },
    };
  }
}
