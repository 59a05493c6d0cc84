/**
 * Loads weights a user already has (torchvision ResNets, timm ViTs, or checkpoints of other SSL
 * libraries that keep those names under a prefix such as `backbone.` or `module.`) into a selfsup
 * backbone, and reports what did not fit: keys the backbone needs and the file lacks (an error
 * unless allowed), keys the file has beyond the backbone (a classifier head, a projector: listed
 * and ignored), shapes that differ (an error), and ViT position tables of another grid (resized
 * bicubically, as timm does when it loads weights for another image size).
 *
 * ```ts
 * const { tensors } = readSafetensors('resnet18.safetensors');    // torchvision's names
 * const report = importBackboneWeights(backbone, tensors);         // report.unexpected: ['fc.weight', 'fc.bias']
 * ```
 */
import { VisionTransformer, resizePositionTable } from '../models/vit.js';
import type { Layer } from '../nn/index.js';
import { type Tensor, tidy } from '../tensor/index.js';

/** Prefixes tried when none is given: none, DDP's, and where SSL libraries keep their backbone. */
export const KNOWN_PREFIXES = ['', 'module.', 'backbone.', 'encoder.', 'model.', 'module.backbone.', 'model.backbone.', 'teacher.backbone.', 'student.backbone.', 'momentum_backbone.'];

export interface ImportReport {
  /** the prefix removed from the file's keys */
  prefix: string;
  /** how many of the backbone's tensors were loaded */
  loaded: number;
  /** the backbone's keys the file lacks (kept at their initial values, with allowMissing; else an error) */
  missing: string[];
  /** the file's keys that are not the backbone's (with their full names in the file) */
  unexpected: string[];
  /** keys whose shapes differ */
  mismatched: { key: string; expected: readonly number[]; got: readonly number[] }[];
  /** ViT position tables resized to this backbone's grid */
  resized: { key: string; from: readonly number[]; to: readonly number[] }[];
}

export function importBackboneWeights(
  backbone: Layer, tensors: Map<string, Tensor>, o: { prefix?: string; allowMissing?: boolean; source?: string } = {},
): ImportReport {
  const source = o.source ?? 'the weights';
  const own = new Map([...backbone.namedParameters(), ...backbone.namedBuffers()]);
  const prefix = o.prefix ?? bestPrefix([...tensors.keys()], own);
  return tidy(() => {
    const state = new Map<string, Tensor>();
    const unexpected: string[] = [];
    for (const [key, t] of tensors) {
      const name = key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
      if (name !== undefined && own.has(name)) state.set(name, t);
      else unexpected.push(key);
    }
    const resized: ImportReport['resized'] = [];
    const posEmbed = state.get('pos_embed');
    if (backbone instanceof VisionTransformer && posEmbed && posEmbed.shape.join() !== backbone.posEmbed.shape.join() && posEmbed.ndim === 3 && posEmbed.size(2) === backbone.dim) {
      const table = resizePositionTable(posEmbed, backbone.gridSize);
      resized.push({ key: 'pos_embed', from: posEmbed.shape, to: table.shape });
      state.set('pos_embed', table);
    }
    const mismatched = [...state].filter(([k, t]) => t.shape.join() !== own.get(k)!.shape.join())
      .map(([key, t]) => ({ key, expected: own.get(key)!.shape, got: t.shape }));
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const report: ImportReport = { prefix, loaded: state.size - mismatched.length, missing, unexpected, mismatched, resized };
    if (state.size === 0) {
      throw new Error(`${source}: none of its ${tensors.size} keys is a key of this ${backbone.constructor.name} (e.g. '${[...tensors.keys()][0] ?? ''}' vs '${[...own.keys()][0]}'); give the prefix they are under`);
    }
    if (mismatched.length > 0 || (missing.length > 0 && !o.allowMissing)) throw new Error(`${source} do not fit this ${backbone.constructor.name}:\n${formatImportReport(report)}`);
    backbone.loadStateDict(state, { strict: false }); // every key fits here: mismatches were refused above
    return report;
  });
}

/** The prefix under which most of the file's keys are keys of the backbone. */
function bestPrefix(keys: string[], own: Map<string, Tensor>): string {
  let best = '';
  let bestCount = -1;
  const candidates = new Set(KNOWN_PREFIXES);
  for (const key of keys) for (const name of own.keys()) if (key.endsWith(`.${name}`)) candidates.add(key.slice(0, key.length - name.length));
  for (const prefix of candidates) {
    const count = keys.filter((k) => k.startsWith(prefix) && own.has(k.slice(prefix.length))).length;
    if (count > bestCount) [best, bestCount] = [prefix, count];
  }
  return best;
}

/** The report as lines a person reads: counts first, then every key that did not fit. */
export function formatImportReport(r: ImportReport): string {
  const listed = (label: string, items: string[], limit = 12): string[] =>
    items.length === 0 ? [] : [`  ${label} (${items.length}): ${items.slice(0, limit).join(', ')}${items.length > limit ? `, ... ${items.length - limit} more` : ''}`];
  return [
    `  loaded ${r.loaded} tensors${r.prefix ? ` (keys under '${r.prefix}')` : ''}`,
    ...listed('missing from the file', r.missing),
    ...r.mismatched.map((m) => `  shape of ${m.key}: the backbone has [${m.expected.join(', ')}], the file [${m.got.join(', ')}]`),
    ...r.resized.map((m) => `  resized ${m.key}: [${m.from.join(', ')}] -> [${m.to.join(', ')}] (bicubic)`),
    ...listed('ignored, not the backbone\'s', r.unexpected, 8),
  ].join('\n');
}
