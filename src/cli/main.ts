#!/usr/bin/env node
/**
 * The `selfsup` command. Commands arrive with their layers (pretrain, eval, export, ...);
 * `selfsup info` reports the engine this installation runs on.
 */
import { readFileSync } from 'node:fs';
import { engineInfo, allocatorStats, cuda, describePrecision, nativeBf16, processMalloc } from '../tensor/index.js';
import { UsageError } from './options.js';
import { ATTENTION_USAGE, attentionCommand } from './attention.js';
import { COMPARE_USAGE, compareCommand } from './compare.js';
import { DASHBOARD_USAGE, dashboardCommand } from './dashboard.js';
import { DEMO_USAGE, demoCommand } from './demo.js';
import { EVAL_USAGE, embedCommand, evalCommand } from './evaluate.js';
import { EXPORT_USAGE, exportCommand } from './export.js';
import { IMPORT_USAGE, importCommand } from './import.js';
import { PACK_USAGE, packCommand } from './pack.js';
import { PRETRAIN_USAGE, pretrainCommand } from './pretrain.js';
import { PREVIEW_USAGE, preview } from './preview.js';
import { RECIPES_USAGE, recipesCommand } from './recipes.js';
import { TOKENIZER_USAGE, tokenizerCommand } from './tokenizer.js';

const USAGE = `usage: selfsup <command> [options]

commands:
  info        the engine: libtorch version, threads, CUDA, allocator
  pretrain    self-supervised pretraining (SimCLR, MoCo v2/v3, BYOL, SimSiam, Barlow Twins, VICReg, NNCLR, FastSiam, SwAV, DINO, iBOT, MAE, BEiT)
  recipes     the methods' training recipes (views, optimizer, schedules, heads); show one as a config to edit
  pack        a photo folder as one memory-mapped file of resized photos, to train from (--data photos.pack)
  tokenizer   train BEiT's visual tokenizer (VQ-VAE or k-means over patches)
  eval        knn | linear | finetune | retrieval | robustness | adversarial | segmentation | detection: a pretrained backbone on labelled data
  compare     runs side by side: a Markdown table and bar charts of their evaluations and cost
  dashboard   a local web page of runs: live curves, collapse, pictures, embedding map, comparison
  embed       embeddings of a data set (safetensors, npy, JSON and CSV with the image paths)
  export      a run's backbone as ONNX, torchvision/timm-named safetensors, or a Hugging Face-style folder
  import      torchvision/timm/other weights (safetensors) as a selfsup checkpoint, with a report of keys
  attention   a ViT's [CLS] attention per head over images (PNG)
  preview     a PNG grid of the augmented views a method's recipe makes, or MAE's reconstructions
  demo        SimCLR on the bundled CIFAR-10 subset, then kNN against a random encoder
  help        this message

options:
  --version   print the version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    console.log(version());
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'info') {
    const info = engineInfo();
    const json = rest.includes('--json');
    const report = {
      selfsup: version(),
      libtorch: info.torchVersion,
      threads: info.numThreads,
      cuda: cuda.isAvailable() ? cuda.deviceCount() : 0,
      mkldnn: info.mkldnn,
      nativeBf16: nativeBf16() ?? 'none (no AMX-BF16 or AVX512-BF16)',
      precision: describePrecision('auto', cuda.isAvailable() ? 'cuda' : 'cpu'),
      cachingAllocator: allocatorStats().caching,
      malloc: processMalloc(),
    };
    if (json) console.log(JSON.stringify(report));
    else {
      for (const [k, v] of Object.entries(report)) console.log(`${k.padEnd(17)} ${v}`);
      if (report.malloc === 'glibc') console.log('  (tcmalloc trains about 5% faster: the selfsup command preloads it unless SELFSUP_MALLOC=glibc or libtcmalloc-minimal4 is missing)');
    }
    return 0;
  }
  const commands: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
    pretrain: { run: pretrainCommand, usage: PRETRAIN_USAGE },
    eval: { run: evalCommand, usage: EVAL_USAGE },
    embed: { run: embedCommand, usage: EVAL_USAGE },
    preview: { run: preview, usage: PREVIEW_USAGE },
    pack: { run: packCommand, usage: PACK_USAGE },
    recipes: { run: recipesCommand, usage: RECIPES_USAGE },
    demo: { run: demoCommand, usage: DEMO_USAGE },
    tokenizer: { run: tokenizerCommand, usage: TOKENIZER_USAGE },
    attention: { run: attentionCommand, usage: ATTENTION_USAGE },
    compare: { run: compareCommand, usage: COMPARE_USAGE },
    dashboard: { run: dashboardCommand, usage: DASHBOARD_USAGE },
    export: { run: exportCommand, usage: EXPORT_USAGE },
    import: { run: importCommand, usage: IMPORT_USAGE },
  };
  const found = commands[command];
  if (found) {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(found.usage);
      return 0;
    }
    try {
      await found.run(rest);
      // a command may set its own status (the launcher of --nproc returns its failed rank's)
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    } catch (error) {
      if (error instanceof UsageError) {
        console.error(`selfsup ${command}: ${error.message}\n\n${found.usage}`);
        return 2;
      }
      console.error(`selfsup ${command}: ${(error as Error).message}`);
      return 1;
    }
  }
  console.error(`selfsup: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
