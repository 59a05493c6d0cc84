// README's "Use it in your project": SimCLR on a folder of photos, from a project that installed selfsup.
// Compiled and run by test/package.test.ts against the packed package.   node first-run.js <photos> <run>
import { data, methods, models, train } from 'selfsup';

const images = await data.ImageFolder.scan(process.argv[2] ?? 'photos').load({ size: 32 });  // [N, 3, 32, 32] uint8
const backbone = models.resnet18({ stem: 'cifar', width: 0.25 });
const simclr = new methods.SimCLR(backbone, { featureDim: backbone.featureDim });
const summary = await train.pretrain(simclr, images, methods.methodViews('simclr', { size: 32 }), {
  out: process.argv[3] ?? 'runs/first', epochs: 1, maxSteps: 2, batchSize: 8,
  optimizer: { name: 'sgd', lr: 0.06, weightDecay: 5e-4 },
});
console.log(`${summary.steps} steps, loss ${summary.firstLoss.toFixed(3)} -> ${summary.lastLoss.toFixed(3)}, checkpoint ${summary.checkpoint?.path}`);
