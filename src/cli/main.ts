#!/usr/bin/env node
/**
 * The `selfsup` command. Commands arrive with their layers (pretrain, eval, export, ...);
 * `selfsup info` reports the engine this installation runs on.
 */
import { readFileSync } from 'node:fs';
import { engineInfo, allocatorStats, cuda } from '../tensor/index.js';

const USAGE = `usage: selfsup <command> [options]

commands:
  info        the engine: libtorch version, threads, CUDA, allocator
  help        this message

options:
  --version   print the version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function main(argv: string[]): number {
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
      cachingAllocator: allocatorStats().caching,
    };
    if (json) console.log(JSON.stringify(report));
    else for (const [k, v] of Object.entries(report)) console.log(`${k.padEnd(17)} ${v}`);
    return 0;
  }
  console.error(`selfsup: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
