/**
 * A short seeded SimCLR run that always resumes from its folder's checkpoint when there is one,
 * writing a checkpoint after every step: test/reliability.test.ts kills it with SIGKILL at random
 * moments and checks that the pieces add up to the uninterrupted run.
 * `node crashRun.js <images folder> <run folder>`
 */
import { ImageFolder } from '../../src/data/index.js';
import { methodViews, SimCLR } from '../../src/methods/index.js';
import { resnet18 } from '../../src/models/index.js';
import { Generator } from '../../src/tensor/index.js';
import { pretrain } from '../../src/train/index.js';

const [data, out] = process.argv.slice(2);
const images = await ImageFolder.scan(data).load({ size: 16, warn: () => undefined });
const g = new Generator(3);
const backbone = resnet18({ stem: 'cifar', width: 0.125, generator: g });
// A head wide enough that writing the checkpoint (weights + momentum, about 6 MB) takes a real share of each step.
const method = new SimCLR(backbone, { featureDim: backbone.featureDim, hiddenDim: 1024, projectionDim: 512, generator: g });
process.stdout.write('ready\n');   // start-up done: the kills aimed at training start counting from here
await pretrain(method, images, methodViews('simclr', { size: 16 }), {
  out, epochs: 16, batchSize: 8, workers: 0, seed: 5, checkpointEvery: 1, resume: true, diagnosticsEvery: 1000,
  optimizer: { name: 'sgd', lr: 0.05, weightDecay: 5e-4 }, log: () => undefined,
});
