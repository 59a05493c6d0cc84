/**
 * Image retrieval on frozen features: every query ranks the gallery by cosine similarity. With
 * labels, an item is relevant when it has the query's class, and the report gives Recall@k (the
 * share of queries with a relevant item among their k nearest; Jegou et al. / the metric-learning
 * convention of Oh Song et al., 2016) and mAP (the mean over queries of the average precision of the
 * full ranking, sum over relevant ranks r of precision@r / relevant items; as sklearn's
 * average_precision_score). When the queries are the gallery (`excludeSelf`), each query's own
 * entry is left out of its ranking, as in leave-one-out retrieval.
 *
 * ```ts
 * const r = retrieval(queryFeats, galleryFeats, { queryLabels, galleryLabels, ks: [1, 5, 10] });
 * r.recall[1]; r.mAP; r.neighbours;   // [Q, kMax] gallery indices, best first
 * ```
 */
import { type Tensor, arange, cat, normalize, tidy } from '../tensor/index.js';

export interface RetrievalOptions {
  /** int [Q] and [G]: classes, for recall and mAP */
  queryLabels?: Tensor;
  galleryLabels?: Tensor;
  /** the k of Recall@k (default 1, 5, 10); the neighbours returned are the largest k's */
  ks?: number[];
  /** queries and gallery are the same images: leave each query out of its own ranking */
  excludeSelf?: boolean;
  /** queries ranked at once (default 256) */
  chunk?: number;
}

export interface RetrievalResult {
  /** int64 [Q, kMax]: the nearest gallery items of each query, most similar first */
  neighbours: Tensor;
  /** float [Q, kMax]: their cosine similarities */
  similarities: Tensor;
  /** Recall@k by k (with labels) */
  recall: Record<number, number>;
  /** mean average precision over queries that have a relevant item (with labels) */
  mAP?: number;
}

export function retrieval(queryFeatures: Tensor, galleryFeatures: Tensor, o: RetrievalOptions = {}): RetrievalResult {
  const [q, g] = [queryFeatures.size(0), galleryFeatures.size(0)];
  if (queryFeatures.ndim !== 2 || galleryFeatures.ndim !== 2 || queryFeatures.size(1) !== galleryFeatures.size(1)) {
    throw new Error(`retrieval: expected features [Q, D] and [G, D], got [${queryFeatures.shape.join(', ')}] and [${galleryFeatures.shape.join(', ')}]`);
  }
  if (o.excludeSelf && q !== g) throw new Error(`retrieval: excludeSelf needs the queries to be the gallery, got ${q} queries and ${g} gallery items`);
  const labelled = o.queryLabels !== undefined && o.galleryLabels !== undefined;
  if (labelled && (o.queryLabels!.numel !== q || o.galleryLabels!.numel !== g)) {
    throw new Error(`retrieval: expected ${q} query labels and ${g} gallery labels, got ${o.queryLabels!.numel} and ${o.galleryLabels!.numel}`);
  }
  const ks = o.ks ?? [1, 5, 10];
  const candidates = g - (o.excludeSelf ? 1 : 0);
  if (candidates < 1 || ks.some((k) => !(Number.isInteger(k) && k >= 1))) throw new Error(`retrieval: need a gallery of at least one item and positive integer ks, got ${g} items and [${ks.join(', ')}]`);
  const kMax = Math.min(Math.max(...ks), candidates);
  const chunk = o.chunk ?? 256;
  return tidy(() => {
    const gallery = normalize(galleryFeatures.float(), { dim: 1 }); // [G, D]
    const queries = normalize(queryFeatures.float(), { dim: 1 });   // [Q, D]
    const parts: { neighbours: Tensor; similarities: Tensor; hits: Tensor; ap: Tensor; hasRelevant: Tensor }[] = [];
    for (let start = 0; start < q; start += chunk) {
      const m = Math.min(chunk, q - start);
      let similarity = queries.narrow(0, start, m).matmul(gallery.T); // [m, G]
      if (o.excludeSelf) similarity = similarity.scatter(1, arange(start, start + m).long().view(-1, 1), -Infinity);
      const [sorted, order] = similarity.sort(1, true, true); // [m, G] each, best first
      const part = { neighbours: order.narrow(1, 0, kMax), similarities: sorted.narrow(1, 0, kMax) } as (typeof parts)[number];
      if (labelled) {
        const queryLabels = o.queryLabels!.long().narrow(0, start, m).view(-1, 1);
        const relevant = o.galleryLabels!.long().index([order.narrow(1, 0, candidates)]).eq(queryLabels).float(); // [m, candidates]
        const ranks = arange(1, candidates + 1).float();                             // [candidates]
        const precision = relevant.cumsum(1).div(ranks);                             // precision@r
        const total = relevant.sum(1);                                               // [m]
        part.ap = precision.mul(relevant).sum(1).div(total.clamp(1));
        part.hasRelevant = total.gt(0);
        part.hits = relevant.narrow(1, 0, kMax).cumsum(1).gt(0).float();             // [m, kMax]: any relevant within the top r
      }
      parts.push(part);
    }
    const result: RetrievalResult = { neighbours: cat(parts.map((p) => p.neighbours), 0), similarities: cat(parts.map((p) => p.similarities), 0), recall: {} };
    if (labelled) {
      const hits = cat(parts.map((p) => p.hits), 0);
      for (const k of ks) result.recall[k] = hits.select(1, Math.min(k, kMax) - 1).mean().item();
      const has = cat(parts.map((p) => p.hasRelevant), 0);
      const ap = cat(parts.map((p) => p.ap), 0);
      result.mAP = has.sum().item() > 0 ? ap.index([has]).mean().item() : 0;
    }
    return result;
  });
}
