/**
 * One data-parallel training step, the same code in one process (the whole batch) and in each
 * rank of a process group (its share of the batch): the tests compare the weights after it.
 */
import { buildMethod, type MethodName } from '../../src/methods/index.js';
import { resnet18, vitTiny } from '../../src/models/index.js';
import { convertSyncBatchNorm } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { Generator, type Tensor, allReduce, averageGradients, randn, tensor, tidy, worldRank, worldSize } from '../../src/tensor/index.js';

export const DATA_PARALLEL_METHODS: MethodName[] = ['simclr', 'moco_v2', 'moco_v3', 'dino', 'vicreg'];
export const COMBINED_BATCH = 8;

/** The state after one SGD step on this rank's share of a fixed batch of 8, and the step's loss (mean over ranks). */
export function dataParallelStep(name: MethodName): { state: Map<string, Tensor>; loss: number } {
  const g = new Generator(7);
  // ResNets exercise SyncBatchNorm (backbone and heads), ViTs the methods without batch norm in the backbone.
  const vit = name === 'moco_v3' || name === 'dino';
  const backbone = vit ? vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 1, heads: 2, generator: g }) : resnet18({ stem: 'cifar', width: 0.125, generator: g });
  const featureDim = vit ? 32 : (backbone as ReturnType<typeof resnet18>).featureDim;
  // MoCo v2 keeps per-process batch norm and shuffles its keys across processes (shuffle BN): one process
  // holding the whole batch splits its batch norm in as many chunks as there are ranks, each rank has one.
  const moco = name === 'moco_v2' ? { splits: worldSize() === 1 ? 2 : 1, queueSize: 32 } : {};
  const method = buildMethod(name, backbone, featureDim, { projectionDim: 16, prototypes: 16, hiddenDim: 32, ...moco }, g);
  if (name !== 'moco_v2') convertSyncBatchNorm(method);
  const optimizer = new SGD(method.parameterGroups(5e-4), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const share = COMBINED_BATCH / worldSize();
  const views = tidy(() => {
    const data = new Generator(11);
    return [randn([COMBINED_BATCH, 3, 16, 16], { generator: data }), randn([COMBINED_BATCH, 3, 16, 16], { generator: data })]
      .map((v) => v.narrow(0, worldRank() * share, share).contiguous());
  });
  const loss = tidy(() => {
    const out = method.step(views, null);
    out.loss.backward();
    return allReduce(tensor([out.loss.item()], { dtype: 'float64' }), 'mean').item();
  });
  averageGradients(method.parameters().filter((p) => p.requiresGrad));
  method.beforeUpdate(0);
  optimizer.step();
  optimizer.zeroGrad();
  method.afterStep(0.5);
  for (const v of views) v.dispose();
  optimizer.dispose();
  const state = new Map([...method.stateDict()].map(([k, v]) => [k, v.clone()]));
  method.dispose();
  return { state, loss };
}
