// Quality on real images (the demo's CIFAR-10 subset) of the masked image modelling methods that have
// a recipe in helpers/qualityRecipes.ts: SimMIM (a ResNet-18, judged by a linear probe) and I-JEPA (a
// small ViT, kNN): the loss falls and the features beat the random encoder's. Calibrated at one engine
// thread, as the suite runs this file. MAE and BEiT have theirs in maeBeitQuality.test.ts.
import { describe } from 'node:test';
import { MASKED_IMAGE_METHODS } from '../src/methods/index.js';
import { recipeQualityTests } from './helpers/qualityTests.js';

describe('masked image modelling on real images: SimMIM, I-JEPA', async () => {
  await recipeQualityTests((name) => MASKED_IMAGE_METHODS.includes(name));
});
