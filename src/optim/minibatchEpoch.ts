/**
 * One epoch of minibatch training, the loop of the probes and heads in src/eval: the `count`
 * examples in a random order (drawn from `generator`), in batches of `batchSize`; each batch's loss,
 * given its int64 indices [b], is minimised by one optimizer step. Returns the mean loss per example.
 *
 * ```ts
 * const loss = minibatchEpoch(features.size(0), { batchSize: 256, generator, optimizer }, (ids) =>
 *   crossEntropy(head.forward(features.index([ids])), labels.index([ids])));
 * ```
 */
import { type Generator, type Tensor, randperm, tidy } from '../tensor/index.js';

export interface MinibatchEpochOptions {
  batchSize: number;
  generator: Generator;
  optimizer: { step(): void; zeroGrad(): void };
  /** before each batch (a per-step learning-rate schedule) */
  beforeStep?: () => void;
}

export function minibatchEpoch(count: number, o: MinibatchEpochOptions, loss: (ids: Tensor) => Tensor): number {
  const order = randperm(count, { generator: o.generator });
  let total = 0;
  try {
    for (let start = 0; start < count; start += o.batchSize) {
      o.beforeStep?.();
      total += tidy(() => {
        const ids = order.narrow(0, start, Math.min(o.batchSize, count - start));
        const value = loss(ids);
        value.backward();
        o.optimizer.step();
        o.optimizer.zeroGrad();
        return value.item() * ids.size(0);
      });
    }
  } finally {
    order.dispose();
  }
  return total / count;
}
