/**
 * `selfsup eval retrieval --checkpoint <run> --query <spec> --gallery <spec>`: the nearest gallery
 * images of each query by cosine similarity of the frozen backbone's features; with labels,
 * Recall@1/5/10 and mAP; a PNG of some queries and their top k; a JSON report. Without --gallery the
 * queries are their own gallery (leave-one-out).
 */
import { type ImageSet, StreamedImages, alignClasses, openImageSet } from '../data/index.js';
import { extractSetFeatures, retrieval } from '../eval/index.js';
import { imageGrid, writePng, writeTextFile } from '../io/index.js';
import { type Tensor, pad, tensor, tidy } from '../tensor/index.js';
import { methodViews } from '../methods/index.js';
import { applyThreadsOption, integerOption, parseOptions, requireString } from './options.js';
import { loadRunBackbone } from '../runs/index.js';

export const RETRIEVAL_USAGE = `usage: selfsup eval retrieval --checkpoint <file> --query <spec> [--gallery <spec>] [options]

  --query <spec>     the query images (a folder, a CSV, cifar10:<dir>, ...)
  --gallery <spec>   the images searched (default: the queries, each left out of its own ranking)
  --k <list>         the k of Recall@k (default 1,5,10)
  --show <n>         queries in the picture (default 8), each with its top k (the largest k)
  --picture <file>   the PNG of queries and neighbours: a green frame for the query's class, red for another
  --out <file.json>  the report  --threads <n>`;

/** Images [N, 3, h, w] in [0, 1] in a frame of a colour per image (rgb in [0, 1]): [N, 3, h + 2 width, w + 2 width]. */
function framed(images: Tensor, colours: number[][], width = 2): Tensor {
  return tidy(() => {
    const c = tensor(colours).view(images.size(0), 3, 1, 1);
    return pad(images.sub(c), [width, width, width, width], 'constant', 0).add(c);
  });
}

const GREY = [0.5, 0.5, 0.5];
const SAME_CLASS = [0.1, 0.8, 0.1];
const OTHER_CLASS = [0.9, 0.1, 0.1];

export async function retrievalCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, {
    checkpoint: { type: 'string' }, query: { type: 'string' }, gallery: { type: 'string' }, k: { type: 'string' },
    show: { type: 'string' }, picture: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' },
  });
  const [checkpoint, querySpec] = [requireString(v, 'checkpoint'), requireString(v, 'query')];
  const ks = typeof v.k === 'string' ? v.k.split(',').map(Number) : [1, 5, 10];
  if (ks.some((k) => !(Number.isInteger(k) && k >= 1))) throw new Error(`--k ${v.k}: expected positive integers separated by commas, e.g. 1,5,10`);
  applyThreadsOption(v);
  const { backbone, run } = loadRunBackbone(checkpoint);
  try {
    const queries = await openImageSet(querySpec, { size: run.size });
    const opened = typeof v.gallery === 'string' ? await openImageSet(v.gallery, { size: run.size }) : queries;
    const excludeSelf = opened === queries;
    const labelled = queries.labels !== null && opened.labels !== null;
    // the gallery's classes by name, in the queries' numbering; a class no query has stays, as a distractor
    const gallery = labelled ? alignClasses(queries, opened, { unknown: 'keep' }).images : opened;
    const view = methodViews('eval', { size: run.size, normalize: run.normalize }).views[0];
    // rows of features: the images in order (streamed photos that cannot be read are left out)
    const querySet = await extractSetFeatures(backbone, queries, { view });
    const gallerySet = excludeSelf ? querySet : await extractSetFeatures(backbone, gallery, { view });
    const result = tidy(() => retrieval(querySet.features, gallerySet.features, {
      ks, excludeSelf, ...(labelled ? { queryLabels: queries.batchLabels(querySet.indices), galleryLabels: gallery.batchLabels(gallerySet.indices) } : {}),
    }));
    querySet.features.dispose();
    if (!excludeSelf) gallerySet.features.dispose();
    const report = { kind: 'retrieval', checkpoint, query: querySpec, gallery: v.gallery ?? querySpec, leaveOneOut: excludeSelf, queries: querySet.indices.length, galleryItems: gallerySet.indices.length, recall: result.recall, mAP: result.mAP };
    if (labelled) {
      console.log(`retrieval: ${ks.map((k) => `Recall@${k} ${(100 * result.recall[k]).toFixed(2)}%`).join(', ')}, mAP ${(100 * result.mAP!).toFixed(2)}%`);
    } else {
      console.log('retrieval: no labels on both sides, so no Recall@k or mAP; the picture shows the neighbours');
    }
    if (typeof v.picture === 'string') {
      const rows = querySet.indices.length;
      const count = Math.min(integerOption(v, 'show', 8), rows);
      const shown = Array.from({ length: count }, (_, i) => Math.floor((i * rows) / count)); // query rows spread over the set
      const neighbours = result.neighbours.toArray() as number[][];
      const columns = neighbours[0].length;
      // uint8 [n, 3, s, s] of the images behind feature rows (streamed photos: their centre squares)
      const pixels = async (data: ImageSet, rows: Int32Array, picked: number[]) => {
        const ids = picked.map((r) => rows[r]);
        return data instanceof StreamedImages ? (await data.decode(ids, run.size)).batch(ids.map((_, i) => i)) : data.batch(ids);
      };
      const cellImages = [await pixels(queries, querySet.indices, shown)];
      for (let c = 0; c < columns; c++) cellImages.push(await pixels(gallery, gallerySet.indices, shown.map((q) => neighbours[q][c])));
      const grid = tidy(() => {
        const cells = [framed(cellImages[0].float().div(255), shown.map(() => GREY))];
        for (let c = 0; c < columns; c++) {
          const colours = shown.map((q) => (!labelled ? GREY
            : queries.labels![querySet.indices[q]] === gallery.labels![gallerySet.indices[neighbours[q][c]]] ? SAME_CLASS : OTHER_CLASS));
          cells.push(framed(cellImages[c + 1].float().div(255), colours));
        }
        return imageGrid(cells, Math.max(64, run.size));
      });
      for (const t of cellImages) t.dispose();
      await writePng(v.picture, grid);
      grid.dispose();
      console.log(`wrote ${v.picture}: ${shown.length} queries x their ${columns} nearest`);
    }
    for (const t of [result.neighbours, result.similarities]) t.dispose();
    if (typeof v.out === 'string') writeTextFile(v.out, JSON.stringify(report, null, 2) + '\n');
  } finally {
    backbone.dispose();
  }
}
