/**
 * The embedding map of a run: its backbone's features of a sample of labelled images (the kNN
 * monitor's test set, else its training data), projected to 2-D with UMAP (McInnes et al., 2018;
 * umap-js, seeded), with each point's class, for the dashboard's scatter plot.
 *
 * ```ts
 * const map = await embeddingMap('runs/simclr', { sample: 500 });   // { points: [[x, y], ...], labels, classes }
 * ```
 */
import { dirname, join, resolve } from 'node:path';
import { UMAP } from 'umap-js';
import { openImages } from '../data/index.js';
import { extractFeatures } from '../eval/index.js';
import { tidy } from '../tensor/index.js';
import { seededUniform } from '../transforms/index.js';
import { methodViews } from '../methods/index.js';
import { loadRunBackbone, readRunText } from '../runs/index.js';

export interface EmbeddingMap {
  points: [number, number][];
  /** class index per point, or null without labels */
  labels: (number | null)[];
  classes: string[];
  data: string;
}


/** A data spec ('photos/', 'cifar10:data/c:test', 'fashion-mnist') with its relative folder made absolute against `base`. */
export function resolveDataSpec(spec: string, base: string): string {
  const prefixed = /^([a-z0-9-]+):(.*)$/.exec(spec);
  if (!prefixed) return resolve(base, spec);
  // nothing to resolve: the default folder ('fashion-mnist'), or a split of it ('fashion-mnist:test')
  if (prefixed[2] === '' || ['train', 'test', 'unlabeled'].includes(prefixed[2])) return spec;
  return `${prefixed[1]}:${resolve(base, prefixed[2])}`;
}

export async function embeddingMap(dir: string, o: { sample?: number; seed?: number } = {}): Promise<EmbeddingMap> {
  const config = JSON.parse(readRunText(join(dir, 'config.json'))) as { knnTest?: string; knnTrain?: string; data?: string; run?: { cwd?: string } };
  const named = config.knnTest ?? config.knnTrain ?? config.data;
  if (!named) throw new Error(`${dir}: its config names no data to embed`);
  // A relative path is relative to where the run was started (recorded; for older runs, the folder
  // that holds runs/), never to where this server was started.
  const data = resolveDataSpec(named, config.run?.cwd ?? dirname(dirname(resolve(dir))));
  const { backbone, run } = loadRunBackbone(join(dir, 'checkpoint.safetensors'));
  try {
    const all = await openImages(data, { size: run.size });
    const images = all.subset(all.spread(o.sample ?? 500));
    const view = methodViews('eval', { size: run.size, normalize: run.normalize }).views[0];
    const rows = tidy(() => {
      const features = extractFeatures(backbone, images, { view }); // [n, D], compared by cosine as the kNN monitor does
      return features.div(features.norm(2, 1, true).add(1e-12)).toArray();
    }) as number[][];
    const umap = new UMAP({ nComponents: 2, nNeighbors: Math.max(2, Math.min(15, rows.length - 1)), minDist: 0.1, random: seededUniform(o.seed ?? 0) }); // seeded: a run's map is the same every time
    const points = umap.fit(rows) as [number, number][];
    return { points, labels: images.labels ? [...images.labels] : Array.from({ length: images.length }, () => null), classes: images.classes, data };
  } finally {
    backbone.dispose();
  }
}
