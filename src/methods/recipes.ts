/**
 * Every method's recipe by name, and what a run's settings make of it: the recipe for a method on a
 * backbone, its views at the run's size (`methodViews`), and the optimizer settings a run trains with
 * when its config overrides part of the recipe (`recipeTraining`).
 *
 * ```ts
 * const views = methodViews('simclr', { size: 32, normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } });
 * const { optimizer } = recipeTraining(methodRecipe('dino', 'vit_tiny'), { batchSize: 512, epochs: 100 });   // AdamW, lr 1e-3
 * ```
 */
import { EVALUATION_VIEW_RECIPES, type EvaluationViews, type PresetOptions, type ViewRecipe, type ViewSet, buildViews } from '../transforms/index.js';
import { BARLOW_TWINS_RECIPE } from './barlowTwins.js';
import { BEIT_RECIPE } from './beit.js';
import { METHOD_NAMES, type MethodName } from './buildMethod.js';
import { BYOL_RECIPE } from './byol.js';
import { DINO_RECIPE } from './dino.js';
import { DINOV2_RECIPE } from './dinov2.js';
import { FASTSIAM_RECIPE } from './fastSiam.js';
import { IBOT_RECIPE } from './ibot.js';
import { MAE_RECIPE } from './mae.js';
import { MOCO_V2_RECIPE } from './mocoV2.js';
import { MOCO_V3_RECIPE } from './mocoV3.js';
import { NNCLR_RECIPE } from './nnclr.js';
import { type BackboneFamily, type MethodRecipe, type MethodRecipes, OPTIMIZER_DEFAULTS, type OptimizerName, backboneFamily } from './recipe.js';
import { SIMCLR_RECIPE } from './simclr.js';
import { SIMMIM_RECIPE } from './simmim.js';
import { IJEPA_RECIPE } from './ijepa.js';
import { SIMSIAM_RECIPE } from './simsiam.js';
import { SUPERVISED_RECIPE } from './supervised.js';
import { SWAV_RECIPE } from './swav.js';
import { VICREG_RECIPE } from './vicreg.js';

export const METHOD_RECIPES: Record<MethodName, MethodRecipes> = {
  simclr: SIMCLR_RECIPE, moco_v2: MOCO_V2_RECIPE, moco_v3: MOCO_V3_RECIPE, byol: BYOL_RECIPE, simsiam: SIMSIAM_RECIPE,
  barlow_twins: BARLOW_TWINS_RECIPE, vicreg: VICREG_RECIPE, nnclr: NNCLR_RECIPE, fastsiam: FASTSIAM_RECIPE, swav: SWAV_RECIPE, dino: DINO_RECIPE, ibot: IBOT_RECIPE, dinov2: DINOV2_RECIPE, mae: MAE_RECIPE, beit: BEIT_RECIPE, simmim: SIMMIM_RECIPE, ijepa: IJEPA_RECIPE,
  supervised: SUPERVISED_RECIPE,
};

/** The recipe of `method` on `backbone` (a name such as resnet18 or vit_tiny, or a family); refused for a family the method does not train. */
export function methodRecipe(method: MethodName, backbone: string): MethodRecipe {
  const recipes = METHOD_RECIPES[method] as MethodRecipes | undefined;
  if (!recipes) throw new Error(`unknown method '${String(method)}' (expected one of ${METHOD_NAMES.join(', ')})`);
  const family: BackboneFamily = backbone === 'resnet' || backbone === 'vit' ? backbone : backboneFamily(backbone);
  const recipe = recipes[family];
  if (!recipe) throw new Error(`method '${method}' has no recipe for a ${family === 'vit' ? 'ViT' : 'ResNet'}: it trains ${Object.keys(recipes).map((f) => (f === 'vit' ? 'ViTs' : 'ResNets')).join(' and ')}`);
  return recipe;
}

/** Names `methodViews` knows: the methods, and the evaluation views (`linear`, `eval`). */
export const VIEW_PRESETS: readonly (MethodName | EvaluationViews)[] = [...METHOD_NAMES, ...Object.keys(EVALUATION_VIEW_RECIPES) as EvaluationViews[]];
export type ViewPreset = typeof VIEW_PRESETS[number];

/** The views of a method's recipe, before they are built at a run's size (the same for both backbone families). */
export function methodViewRecipe(name: MethodName): ViewRecipe {
  if (!(name in METHOD_RECIPES)) throw new Error(`unknown view preset '${String(name)}' (expected one of ${VIEW_PRESETS.join(', ')})`);
  // the views do not depend on the backbone family; ViT-only methods have only a vit recipe
  const recipes = METHOD_RECIPES[name];
  return (recipes.resnet ?? recipes.vit)!.views;
}

/** The views (and masks) of a method's recipe, or the evaluation views, at a run's size, domain and normalisation. */
export function methodViews(name: ViewPreset, o: PresetOptions): ViewSet {
  if (name in EVALUATION_VIEW_RECIPES) return buildViews(EVALUATION_VIEW_RECIPES[name as EvaluationViews], o, name);
  return buildViews(methodViewRecipe(name as MethodName), o, name);
}

/** What a run's config may override of a recipe's training settings (unset: the recipe's). */
export interface TrainingOverrides {
  epochs: number;
  batchSize: number;
  accumulate?: number;
  optimizer?: OptimizerName;
  /** the learning rate itself, or per 256 images (scaled by batchSize x accumulate / 256) */
  lr?: number;
  baseLr?: number;
  weightDecay?: number;
  finalWeightDecay?: number;
  betas?: [number, number];
  warmupEpochs?: number;
  clipGrad?: number;
}

/** A run's optimizer and clipping, in the shape `pretrain` takes them (`{ ...recipeTraining(recipe, o) }`). */
export interface RecipeTraining {
  optimizer: {
    name: OptimizerName;
    lr: number;
    weightDecay: number;
    finalWeightDecay?: number;
    betas?: [number, number];
    warmupEpochs: number;
  };
  clipGrad?: number;
}

/**
 * A run's optimizer settings: the recipe's, with the config's overrides. Another optimizer than the
 * recipe's brings its own usual learning rate and weight decay (OPTIMIZER_DEFAULTS) and leaves the
 * recipe's weight-decay schedule and betas behind; the warm-up is at most a tenth of the run.
 */
export function recipeTraining(recipe: MethodRecipe, o: TrainingOverrides): RecipeTraining {
  const optimizer = o.optimizer ?? recipe.optimizer;
  const same = optimizer === recipe.optimizer;
  const base = same ? recipe : OPTIMIZER_DEFAULTS[optimizer];
  const weightDecay = o.weightDecay ?? base.weightDecay;
  const finalWeightDecay = o.finalWeightDecay ?? (same ? recipe.finalWeightDecay : undefined);
  const betas = o.betas ?? (same && optimizer === 'adamw' ? recipe.betas : undefined);
  const clipGrad = o.clipGrad ?? recipe.clipGrad;
  return {
    optimizer: {
      name: optimizer,
      lr: o.lr ?? ((o.baseLr ?? base.baseLr) * o.batchSize * (o.accumulate ?? 1)) / 256,
      weightDecay,
      ...(finalWeightDecay !== undefined ? { finalWeightDecay } : {}),
      ...(betas ? { betas } : {}),
      warmupEpochs: o.warmupEpochs ?? Math.min(recipe.warmupEpochs, Math.ceil(o.epochs / 10)),
    },
    ...(clipGrad ? { clipGrad } : {}),
  };
}
