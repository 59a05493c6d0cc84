/** Runs a PyTorch peer script from bench/peers/ with Debian's python3 and parses its JSON line. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TCMALLOC = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4';
/** Debian's python3 (with python3-torch) here; SELFSUP_PEER_PYTHON elsewhere (a GPU machine's PyTorch). */
const PYTHON = process.env.SELFSUP_PEER_PYTHON ?? '/usr/bin/python3';

/** Runs `script`; `env` adds to this process's environment, except that LD_PRELOAD is only ever what `env` says (the benchmark itself runs under tcmalloc). */
export function runPeer(script: string, args: string[], env: Record<string, string>): Record<string, unknown> {
  // bench/peers lives beside the sources; dist/bench/peer.js reaches it two levels up.
  const path = fileURLToPath(new URL(`../../bench/peers/${script}`, import.meta.url));
  if (!existsSync(PYTHON)) throw new Error(`peer: ${PYTHON} not found (npm run setup installs python3-torch)`);
  if (env.LD_PRELOAD && !existsSync(env.LD_PRELOAD)) throw new Error(`peer: ${env.LD_PRELOAD} not found (npm run setup installs libtcmalloc-minimal4)`);
  const out = execFileSync(PYTHON, [path, ...args], { env: { ...process.env, LD_PRELOAD: '', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}
