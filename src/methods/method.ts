/**
 * What every self-supervised method gives the trainer: a module holding everything it trains
 * (backbone, heads; saved whole in checkpoints), the backbone that evaluation uses, and one
 * training step's loss from a batch of views. The trainer does the rest (backward, optimizer,
 * schedules, logging), so a method file reads as the paper's algorithm.
 */
import { Module, scopeMethods, type Layer } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';

export interface MethodStep {
  /** the scalar to minimise */
  loss: Tensor;
  /** two views' embeddings [N, D] (detached) for the collapse diagnostics, when the method has them */
  embeddings?: [Tensor, Tensor];
  /** further numbers worth a curve (codebook perplexity, masked-token accuracy), logged with the loss */
  metrics?: Record<string, number>;
}

const isStep = (name: string) => name === 'step';

export abstract class SSLMethod extends Module {
  /** `step` runs in its own memory scope, as forward passes do (Module): what it returns is kept, the rest freed. */
  constructor() {
    super();
    scopeMethods(new.target.prototype, SSLMethod.prototype, isStep);
  }

  /** the encoder whose features are evaluated and exported */
  abstract readonly backbone: Layer;
  /** where the backbone's weights sit in the method's state dict ('backbone', 'query.backbone', ...) */
  readonly backboneKey: string = 'backbone';
  /** the share of an image's patches the backbone sees (MAE's encoder: 1 - mask ratio); 1 for the others (cost estimates) */
  get visibleFraction(): number {
    return 1;
  }
  /** one step's loss on the views of a batch (float [B, 3, s, s] each), its masks, and its labels (int64 [B]; supervised pretraining only) */
  abstract step(views: Tensor[], mask: Tensor | null, labels?: Tensor | null): MethodStep;
  /** after the gradients of a step, before clipping and the optimizer (DINO freezes its last layer here) */
  beforeUpdate(_progress: number): void {}
  /** after each optimizer step (momentum encoders, temperature schedules), with the training progress in [0, 1] */
  afterStep(_progress: number): void {}
}
