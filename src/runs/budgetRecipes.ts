/**
 * Whole-run recipes for a budget of wall-clock time on a small machine: every setting a run needs
 * (method, backbone and its size, batch, optimizer, schedules over the budget, views and their
 * progressive resizing), chosen by
 * measurement (README, "Time to accuracy"). `selfsup pretrain --recipe cpu-30min --data <images>`
 * starts from one; a config file and flags override any of its keys. `selfsup recipes show
 * cpu-30min` prints it as a config.
 *
 * ```ts
 * const config = readPretrainConfig({ recipe: 'cpu-30min', data: 'photos/', out: 'runs/a' });
 * ```
 */
export interface BudgetRecipe {
  /** what it is for, and how it was chosen */
  source: string;
  /** the pretrain config keys it sets (the run's own flags and file override them) */
  config: Record<string, unknown>;
}

export const BUDGET_RECIPES: Record<string, BudgetRecipe> = {
  'cpu-30min': {
    source: 'the best CIFAR-10-sized (32 px) encoder in 30 minutes on 2 CPU cores: chosen on a validation split of CIFAR-10\'s '
      + 'training images by `npm run bench -- speedrun` (README, "Time to accuracy")',
    config: {
      method: 'simclr', backbone: 'resnet18', stem: 'cifar', width: 0.25, size: 32, minutes: 30,
      batchSize: 256, optimizer: 'sgd', lr: 0.3, weightDecay: 5e-4, momentum: 0.9, warmupEpochs: 1, epochs: 20, temperature: 0.2,
      normalize: 'data', startSize: 12, resizeFrom: 0.5, resizeUntil: 0.95,
    },
  },
};

export const BUDGET_RECIPE_NAMES = Object.keys(BUDGET_RECIPES);
