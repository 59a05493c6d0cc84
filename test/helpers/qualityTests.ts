// The short-run quality tests of every method that has a recipe in qualityRecipes.ts, shared by the
// test files of each family (joint-embedding, self-distillation, masked image modelling), which the
// suite runs side by side.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { type ImageArray, ImageFolder } from '../../src/data/index.js';
import { buildMethod, type MethodName, methodViews } from '../../src/methods/index.js';
import type { Layer } from '../../src/nn/index.js';
import { Generator, resolvePrecision } from '../../src/tensor/index.js';
import { pretrain } from '../../src/train/index.js';
import { QUALITY_BASE_OPTIONS, QUALITY_RECIPES, type QualityRecipe, qualityBackbone, qualityRecipeName, qualityTop1, qualityViews } from './qualityRecipes.js';

/** features at the precision the runs train in (bf16 autocast where the CPU has it), as the kNN monitor */
export const QUALITY_PRECISION = resolvePrecision('auto');

const demo = fileURLToPath(new URL('../../../data/cifar10-demo', import.meta.url));
const demoSets = new Map<number, { train: ImageArray; test: ImageArray }>();
/** The demo's images at `size` px, decoded once per test file. */
export async function demoImages(size: number): Promise<{ train: ImageArray; test: ImageArray }> {
  if (!demoSets.has(size)) {
    demoSets.set(size, { train: await ImageFolder.scan(join(demo, 'train')).load({ size }), test: await ImageFolder.scan(join(demo, 'test')).load({ size }) });
  }
  return demoSets.get(size)!;
}

/**
 * One test per recipe of the methods `include` keeps: a short pretraining from a random encoder of
 * seed 0 lowers the loss and beats that encoder's top-1 (kNN, or a linear probe where the recipe
 * says) by more than 1.5 points (the recipe's minGain) on the demo's test images. Call inside a describe.
 */
export async function recipeQualityTests(include: (name: MethodName) => boolean): Promise<void> {
  const recipes = QUALITY_RECIPES.filter(([name]) => include(name));
  const dir = mkdtempSync(join(tmpdir(), 'selfsup-quality-'));
  const sets = new Map<number, { train: ImageArray; test: ImageArray }>();
  for (const [, r] of recipes) if (!sets.has(r.size)) sets.set(r.size, await demoImages(r.size));
  const top1 = (r: QualityRecipe, backbone: Layer) =>
    qualityTop1(r, backbone, sets.get(r.size)!.train, sets.get(r.size)!.test, methodViews('eval', { size: r.size }).views[0], QUALITY_PRECISION);
  // Every recipe starts from a random encoder of seed 0: its accuracy is measured once per size, width and evaluation.
  const randomTop1 = new Map<string, number>();

  for (const [name, r] of recipes) {
    const probe = r.evaluation === 'linear' ? 'a linear probe' : 'kNN';
    const minGain = r.minGain ?? 1.5;
    // DINO's and DINOv2's losses sit near log K early on (a uniform teacher): they must stay off a single prototype
    const distilled = name === 'dino' || name === 'dinov2';
    const beats = minGain > 0 ? `${probe} beats the random encoder` : `${probe} stays within ${-minGain} point of the random encoder (no collapse)`;
    const claim = distilled ? `the loss stays finite and off a single prototype and ${beats}` : `the loss falls and ${beats}`;
    test(`${name} (${qualityRecipeName(r)}): ${claim}`, async () => {
      const generator = new Generator(0);
      const { backbone, featureDim } = qualityBackbone(r, generator);
      const method = buildMethod(name, backbone, featureDim, { ...QUALITY_BASE_OPTIONS, ...r.options }, generator);
      const key = `${qualityRecipeName(r)}/${r.evaluation ?? 'knn'}`;
      if (!randomTop1.has(key)) randomTop1.set(key, top1(r, backbone));
      const random = randomTop1.get(key)!;
      const summary = await pretrain(method, sets.get(r.size)!.train, qualityViews(name, r), {
        out: join(dir, name), epochs: 100, maxSteps: r.steps, batchSize: 128, clipGrad: r.clipGrad,
        optimizer: r.optimizer, diagnosticsEvery: 1000, log: () => undefined,
      });
      const trained = top1(r, backbone);
      if (distilled) {
        const prototypes = r.options?.prototypes ?? 1024;
        assert.ok(summary.lastLoss > 0.5 * Math.log(prototypes) && Number.isFinite(summary.lastLoss), `${name}: final loss ${summary.lastLoss}`);
      } else if (name === 'moco_v2') {
        // MoCo's loss starts low against a random queue and rises as real keys fill it: it must end
        // below chance, log(1 + K) for a positive among K = 1024 negatives.
        assert.ok(summary.lastLoss < Math.log(1 + 1024), `${name}: final loss ${summary.lastLoss} vs chance ${Math.log(1025)}`);
      } else {
        assert.ok(summary.lastLoss < summary.firstLoss, `${name}: loss ${summary.firstLoss} -> ${summary.lastLoss}`);
      }
      assert.ok(trained > random + minGain / 100, `${name}: ${probe} top-1 random ${random}, trained ${trained} (at least ${minGain} points more expected)`);
      method.dispose();
    });
  }
}
