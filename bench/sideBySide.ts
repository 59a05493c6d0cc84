/**
 * Times our training step and a PyTorch peer in alternating rounds, so that a change in
 * the machine's load hits both sides alike; reports medians. Before each of our rounds
 * after the first, one untimed step brings back the working set the peer run evicted
 * (each peer run has its own warm-up).
 */
export interface SideBySideOptions {
  rounds: number;
  steps: number;
  warmup: number;
  batch: number;
  /** one training step of ours */
  step: () => void;
  /** one peer run (a subprocess) returning at least img_per_s; omitted: ours only */
  peer?: () => Record<string, unknown>;
}

export interface SideBySideResult {
  imgPerS: number;
  rounds: number[];
  peer?: { imgPerS: number; rounds: number[]; runs: Record<string, unknown>[] };
}

export function sideBySide(o: SideBySideOptions): SideBySideResult {
  for (let i = 0; i < o.warmup; i++) o.step();
  const ours: number[] = [];
  const peer: Record<string, unknown>[] = [];
  for (let r = 0; r < o.rounds; r++) {
    if (r > 0) o.step();
    const start = process.hrtime.bigint();
    for (let i = 0; i < o.steps; i++) o.step();
    ours.push((o.batch * o.steps) / (Number(process.hrtime.bigint() - start) / 1e9));
    if (o.peer) peer.push(o.peer());
  }
  const result: SideBySideResult = { imgPerS: median(ours), rounds: ours };
  if (o.peer) {
    const rates = peer.map((p) => p.img_per_s as number);
    result.peer = { imgPerS: median(rates), rounds: rates, runs: peer };
  }
  return result;
}

/**
 * Several timed variants of ours and of the peer (its modes: fp32, channels_last, bf16, ...) in
 * `rounds` rounds; odd rounds run the peer first, so neither side always runs on a cold or a warm
 * machine. Each variant returns images/s for one round. The peer's best mode is the one with the
 * highest median; a ratio is the median of the per-round ratios, so one noisy round cannot decide.
 */
export interface RoundsOptions {
  rounds: number;
  ours: Record<string, () => number>;
  peer: Record<string, () => number>;
}

export interface RoundsResult {
  ours: Record<string, number[]>;
  peer: Record<string, number[]>;
  /** the peer mode with the highest median images/s (undefined without a peer) */
  peerBest?: string;
}

export function alternatingRounds(o: RoundsOptions): RoundsResult {
  const result: RoundsResult = { ours: {}, peer: {} };
  const run = (side: Record<string, () => number>, into: Record<string, number[]>) => {
    for (const [name, f] of Object.entries(side)) (into[name] ??= []).push(f());
  };
  for (let r = 0; r < o.rounds; r++) {
    if (r % 2 === 0) { run(o.ours, result.ours); run(o.peer, result.peer); } else { run(o.peer, result.peer); run(o.ours, result.ours); }
  }
  const modes = Object.keys(result.peer);
  if (modes.length > 0) result.peerBest = modes.reduce((a, b) => (median(result.peer[b]) > median(result.peer[a]) ? b : a));
  return result;
}

/** The median over rounds of ours[r] / peer[r]. */
export function roundRatio(ours: number[], peer: number[]): number {
  return median(ours.map((v, r) => v / peer[r]));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (x: number, digits: number): number => Number(x.toFixed(digits));
