// Quality on real images (the demo's CIFAR-10 subset) of the self-distillation methods: a short
// pretraining of DINO (ResNet-18) and DINOv2 (a small ViT) keeps the loss off a single prototype and
// beats the random encoder's kNN accuracy (recipes in helpers/qualityRecipes.ts, calibrated at one
// engine thread, as the suite runs this file).
import { describe } from 'node:test';
import { SELF_DISTILLATION_METHODS } from '../src/methods/index.js';
import { recipeQualityTests } from './helpers/qualityTests.js';

describe('self-distillation on real images', async () => {
  await recipeQualityTests((name) => SELF_DISTILLATION_METHODS.includes(name));
});
