/** Run folders: what a run is (its configuration and identity), its checkpoint's backbone or method, its files and metrics. */
export * from './budgetRecipes.js';
export * from './runConfig.js';
export * from './runCheckpoint.js';
export * from './runFolders.js';
