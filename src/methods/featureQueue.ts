/**
 * A queue of earlier embeddings kept as a ring buffer in a method's buffers (so checkpoints hold it and
 * a resumed run continues it): MoCo's negatives, NNCLR's support set (every process enqueues the same
 * gathered rows, so the queues stay equal across processes), SwAV's stored embeddings (each process its own).
 *
 * ```ts
 * enqueueRows(this.queue, this.pointer, noGrad(() => allGather(keys)));   // queue [K, D], pointer int64 [1]
 * ```
 */
import { type Tensor, noGrad, tensor } from '../tensor/index.js';

/** Replaces the oldest rows of `queue` [K, D] with `rows` [M, D] (the first K when M > K) and moves `pointer` on. */
export function enqueueRows(queue: Tensor, pointer: Tensor, rows: Tensor): void {
  noGrad(() => {
    const size = queue.size(0);
    const start = pointer.item();
    const count = Math.min(rows.size(0), size);
    const slots = tensor(Array.from({ length: count }, (_, i) => (start + i) % size), { dtype: 'int64' });
    // the queue stays float32 when autocast made the rows bfloat16
    queue.copy_(queue.indexPut([slots], rows.narrow(0, 0, count).to(queue.dtype)));
    pointer.fill_((start + count) % size);
  });
}
