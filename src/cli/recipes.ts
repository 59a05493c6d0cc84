/**
 * `selfsup recipes`: the methods' training recipes (src/methods/<method>.ts). Without arguments, a
 * table of every method and backbone family; `show <method> [--backbone <name>]` prints one as a
 * `selfsup pretrain` config (YAML) to edit and pass back with `--config` (with --data and --out).
 */
import { Document, visit } from 'yaml';
import { METHOD_NAMES, METHOD_RECIPES, type MethodName, type MethodRecipe, methodRecipe } from '../methods/index.js';
import { BACKBONES } from '../models/index.js';
import { BUDGET_RECIPE_NAMES, BUDGET_RECIPES } from '../runs/index.js';
import { UsageError, parseOptions } from './options.js';

export const RECIPES_USAGE = `usage: selfsup recipes                                  every method's recipe, one line per backbone family
       selfsup recipes show <method> [--backbone <name>]  one recipe as a config for selfsup pretrain --config
       selfsup recipes show <whole-run recipe>           ${BUDGET_RECIPE_NAMES.join(', ')}: a run for a time budget

  <method>            ${METHOD_NAMES.join(', ')}
  --backbone <name>   ${BACKBONES.join(', ')} (default resnet18, vit_tiny for ViT-only methods)

  selfsup recipes show dino --backbone vit_tiny > dino.yaml
  selfsup pretrain --config dino.yaml --data photos/ --out runs/dino`;

/** A recipe as the keys of a pretrain config, in the order a reader wants them. */
export function recipeConfig(method: MethodName, backbone: string, recipe: MethodRecipe): Record<string, unknown> {
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return defined({
    method, backbone,
    optimizer: recipe.optimizer, baseLr: recipe.baseLr, weightDecay: recipe.weightDecay, finalWeightDecay: recipe.finalWeightDecay,
    betas: recipe.betas, warmupEpochs: recipe.warmupEpochs, clipGrad: recipe.clipGrad, syncBatchNorm: recipe.syncBatchNorm,
    ...recipe.options,
    views: recipe.views,
  });
}

/** YAML with lists of numbers on one line ([0.08, 1]), as people write ranges. */
function yamlWithInlineLists(value: unknown): string {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, { Seq: (_, node) => { if (node.items.every((item) => typeof (item as { value?: unknown }).value === 'number')) node.flow = true; } });
  return doc.toString();
}

/** The recipe of `method` on `backbone` as a commented pretrain config (YAML). */
export function recipeYaml(method: MethodName, backbone: string): string {
  const recipe = methodRecipe(method, backbone);
  const source = recipe.source.match(/.{1,96}(\s|$)/g)?.map((line) => `# ${line.trim()}`).join('\n') ?? '';
  return `# selfsup pretrain --config <this file> --data <images> --out <run folder>\n${source}\n`
    + '# baseLr is per 256 images: the run\'s learning rate is baseLr x batchSize x accumulate / 256.\n'
    + yamlWithInlineLists(recipeConfig(method, backbone, recipe)).trimEnd();
}

function listRecipes(): string {
  const rows = [['method', 'backbone', 'optimizer', 'lr per 256', 'weight decay', 'clip', 'source']];
  for (const method of METHOD_NAMES) {
    const recipes = METHOD_RECIPES[method];
    const families = recipes.resnet === recipes.vit ? [['any', recipes.resnet!] as const] : Object.entries(recipes);
    for (const [family, recipe] of families) {
      const decay = recipe.finalWeightDecay !== undefined ? `${recipe.weightDecay} -> ${recipe.finalWeightDecay}` : String(recipe.weightDecay);
      rows.push([method, family, recipe.optimizer, String(recipe.baseLr), decay, recipe.clipGrad ? String(recipe.clipGrad) : '', recipe.source.split(':')[0]]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const budgets = Object.entries(BUDGET_RECIPES).map(([name, r]) => `  ${name}  ${r.config.method}, ${r.config.backbone}, ${r.config.minutes} minutes: ${r.source}`);
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n')
    + `\n\nwhole-run recipes (selfsup pretrain --recipe <name>; selfsup recipes show <name>):\n${budgets.join('\n')}`;
}

export async function recipesCommand(argv: string[]): Promise<void> {
  if (argv.length === 0) {
    console.log(listRecipes());
    return;
  }
  const [action, method, ...rest] = argv;
  if (action !== 'show') throw new UsageError(`unknown action '${action}' (expected show, or nothing to list them)`);
  if (method !== undefined && Object.hasOwn(BUDGET_RECIPES, method)) {
    const recipe = BUDGET_RECIPES[method];
    const source = recipe.source.match(/.{1,96}(\s|$)/g)?.map((line) => `# ${line.trim()}`).join('\n') ?? '';
    console.log(`# selfsup pretrain --recipe ${method} --data <images> --out <run folder> (or --config <this file>)\n${source}\n`
      + yamlWithInlineLists({ recipe: method, ...recipe.config }).trimEnd());
    return;
  }
  if (method === undefined || !(METHOD_NAMES as readonly string[]).includes(method)) {
    throw new UsageError(`${method === undefined ? 'which method?' : `unknown method '${method}'`} (expected one of ${METHOD_NAMES.join(', ')}, or a whole-run recipe: ${BUDGET_RECIPE_NAMES.join(', ')})`);
  }
  const values = parseOptions(rest, { backbone: { type: 'string' } });
  const name = method as MethodName;
  const backbone = typeof values.backbone === 'string' ? values.backbone : METHOD_RECIPES[name].resnet ? 'resnet18' : 'vit_tiny';
  if (!(BACKBONES as readonly string[]).includes(backbone)) throw new UsageError(`--backbone ${backbone}: expected one of ${BACKBONES.join(', ')}`);
  try {
    methodRecipe(name, backbone);   // only the backbone's family can be wrong here (a ViT-only method on a ResNet)
  } catch (error) {
    throw new UsageError(`--backbone ${backbone}: ${(error as Error).message}`);
  }
  console.log(recipeYaml(name, backbone));
}
