/**
 * A rank of the distributed tests, started by test/distributed.test.ts with RANK, WORLD_SIZE,
 * MASTER_ADDR and MASTER_PORT set. `node distributedWorker.js <mode> <out folder>`:
 * - collectives: all-reduce, all-gather, broadcast, barrier, and the gathered NT-Xent with its
 *   gradients, written to <out>/collectives-<rank>.json;
 * - step: one data-parallel step of each method in DATA_PARALLEL_METHODS, the weights written
 *   to <out>/<method>-<rank>.safetensors;
 * - wait: all-reduces forever (the test kills a rank and expects the other to fail, not hang).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/io/index.js';
import { ntXentLoss } from '../../src/losses/index.js';
import {
  Generator, allGather, allReduce, barrier, broadcast, destroyProcessGroup, initProcessGroup, initProcessGroupFromEnvironment, randn, tensor, tidy,
} from '../../src/tensor/index.js';
import { DATA_PARALLEL_METHODS, dataParallelStep } from './dataParallelCase.js';

const [mode, out] = process.argv.slice(2);
// INIT_METHOD=file:///...: a file store instead of rank 0's TCP store.
const timeoutSeconds = Number(process.env.DIST_TIMEOUT ?? 60);
const group = process.env.INIT_METHOD
  ? initProcessGroup({ rank: Number(process.env.RANK), worldSize: Number(process.env.WORLD_SIZE), initMethod: process.env.INIT_METHOD, timeoutSeconds })
  : initProcessGroupFromEnvironment(process.env, { timeoutSeconds });
if (!group) throw new Error('distributedWorker: WORLD_SIZE is not set');
const { rank, worldSize } = group;

if (mode === 'collectives') {
  const result = tidy(() => {
    const sum = allReduce(tensor([rank + 1, 10 * (rank + 1)]), 'sum').data<Float32Array>();
    const max = allReduce(tensor([rank]), 'max').item();
    const mean = allReduce(tensor([rank]), 'mean').item();
    const gathered = allGather(tensor([[rank, rank], [rank + 0.5, rank + 0.5]])).data<Float32Array>();
    const shared = tensor([rank === 1 ? 42 : -1, rank]);
    const big = randn([300_000], { generator: new Generator(100 + rank) });   // two 1 MB buckets
    broadcast([shared, big], 1, 1);
    barrier();
    // NT-Xent on this rank's share of 8 images, with the gradients of the mean loss over the ranks
    const data = new Generator(5);
    const [z1, z2] = [randn([8, 16], { generator: data }), randn([8, 16], { generator: data })];
    const share = 8 / worldSize;
    const local = [z1, z2].map((z) => z.narrow(0, rank * share, share).detach().requiresGrad_());
    const loss = ntXentLoss(local[0], local[1], 0.5);
    loss.div(worldSize).backward();   // the data-parallel objective: the mean of the ranks' losses
    const meanLoss = allReduce(loss.detach().clone(), 'mean').item();
    const grads = local.map((z) => Array.from(allGather(z.grad!).data<Float32Array>()));
    return { sum: Array.from(sum), max, mean, gathered: Array.from(gathered), shared: Array.from(shared.data<Float32Array>()),
      bigFirst: big.data<Float32Array>()[0], meanLoss, grads };
  });
  writeFileSync(join(out, `collectives-${rank}.json`), JSON.stringify(result));
} else if (mode === 'step') {
  for (const name of DATA_PARALLEL_METHODS) {
    const { state, loss } = dataParallelStep(name);
    writeSafetensors(join(out, `${name}-${rank}.safetensors`), state, { loss: String(loss) });
    for (const t of state.values()) t.dispose();
  }
} else if (mode === 'wait') {
  process.stdout.write('ready\n');
  for (;;) {
    tidy(() => allReduce(tensor([1])));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
} else {
  throw new Error(`distributedWorker: unknown mode '${mode}'`);
}
destroyProcessGroup();
