/**
 * What a run is, for resuming it: the settings that must be the same when a killed run continues
 * (method, backbone, batch, schedule, data, ...). A checkpoint records them; `--resume` with any of
 * them changed is refused with the keys named, unless the user names the keys they mean to change
 * (`--allow-changed batchSize`). Settings that only steer the process (threads, workers, where the
 * logs go, when to stop) are not part of it.
 *
 * ```ts
 * const changed = identityChanges(saved, { method: 'simclr', batchSize: 256, data: images.fingerprint() });
 * if (changed.length > 0) throw new Error(changed.join('; '));
 * ```
 */

export type RunIdentity = Record<string, unknown>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const shown = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));

/** The keys of `current` whose value differs from `saved`'s, as "key: saved -> current" lines, except the `allowed` ones. */
export function identityChanges(saved: RunIdentity, current: RunIdentity, allowed: readonly string[] = []): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])].sort();
  return keys.filter((k) => !allowed.includes(k) && !same(saved[k], current[k])).map((k) => `${k}: ${shown(saved[k])} in the checkpoint, ${shown(current[k])} now`);
}

/** Throws, naming each changed key and how to allow it, when `current` is not the run `saved` describes. */
export function checkResumeIdentity(checkpoint: string, saved: RunIdentity, current: RunIdentity, allowed: readonly string[] = []): void {
  const changes = identityChanges(saved, current, allowed);
  if (changes.length === 0) return;
  const keys = changes.map((c) => c.slice(0, c.indexOf(':')));
  throw new Error(`cannot resume ${checkpoint}: this is not the run it holds:\n  ${changes.join('\n  ')}\n` +
    `Resume with the run's own settings, start a new run (another --out, or --overwrite), or, to continue it changed on purpose, ` +
    `--allow-changed ${keys.join(',')}`);
}
