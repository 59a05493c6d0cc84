// Quality on real images (the demo's CIFAR-10 subset) of the joint-embedding methods: a short
// pretraining of each lowers its loss and beats the random encoder's kNN accuracy (recipes in
// helpers/qualityRecipes.ts, calibrated for this budget on two seeds at one engine thread, as the
// suite runs this file; see the table in docs/performance.md). The self-distillation and masked
// image modelling methods have their own files (distillationQuality, maskedQuality, maeBeitQuality), run beside this one.
import { describe } from 'node:test';
import { MASKED_IMAGE_METHODS, SELF_DISTILLATION_METHODS } from '../src/methods/index.js';
import { recipeQualityTests } from './helpers/qualityTests.js';

describe('joint-embedding methods on real images', async () => {
  await recipeQualityTests((name) => !SELF_DISTILLATION_METHODS.includes(name) && !MASKED_IMAGE_METHODS.includes(name));
});
