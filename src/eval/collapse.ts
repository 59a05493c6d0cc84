/**
 * Collapse diagnostics of a batch of embeddings, logged during training:
 * - per-dimension standard deviation of the L2-normalised embeddings, against 1/sqrt(d), the
 *   value of embeddings spread over the sphere; near 0 when every image maps to one point
 *   (SimSiam, Chen & He, 2021, Sec. 4.1 / Fig. 2; lightly's std_of_l2_normalized);
 * - effective rank, RankMe (Garrido et al., 2023): exp of the entropy of the normalised singular
 *   values; low when the embeddings span few directions (dimensional collapse);
 * - alignment and uniformity (Wang & Isola, 2020): mean squared distance between the two views'
 *   normalised embeddings (low is good), and log E exp(-2 ||u - v||^2) over pairs of images (more
 *   negative is more uniform).
 *
 * ```ts
 * const m = collapseMetrics(z1, z2);   // z1, z2: [N, D] embeddings of two views
 * if (m.collapsed) console.warn(m.warning);
 * ```
 */
import { type Tensor, cdist, normalize, ones, svdvals, tidy } from '../tensor/index.js';

export interface CollapseMetrics {
  /** mean over dimensions of the std of the normalised embeddings */
  std: number;
  /** 1/sqrt(d) */
  stdReference: number;
  /** effective rank (RankMe), between 1 and min(N, D) */
  effectiveRank: number;
  /** only with a second view */
  alignment?: number;
  uniformity: number;
  collapsed: boolean;
  /** one line saying what collapsed, when it did */
  warning?: string;
}

/** The std of the normalised embeddings below this share of 1/sqrt(d) counts as collapse. */
export const COLLAPSED_STD_SHARE = 0.1;

export function collapseMetrics(z1: Tensor, z2?: Tensor): CollapseMetrics {
  if (z1.ndim !== 2 || z1.size(0) < 2) throw new Error(`collapseMetrics: expected embeddings [N >= 2, D], got [${z1.shape.join(', ')}]`);
  if (z2 && z2.shape.join() !== z1.shape.join()) throw new Error(`collapseMetrics: the views' embeddings differ in shape: [${z1.shape.join(', ')}] and [${z2.shape.join(', ')}]`);
  return tidy(() => {
    const [n, d] = z1.shape;
    const raw = z1.detach().float();
    const u = normalize(raw, { dim: 1 });                                           // [N, D]
    const std = u.std(0, false).mean().item();
    const sigma = svdvals(raw);                                                     // [min(N, D)]
    const p = sigma.div(sigma.sum().add(1e-12)).add(1e-7);
    const effectiveRank = p.mul(p.log()).sum().neg().exp().item();
    const offDiagonal = ones([n, n]).triu(1).bool();                                // pairs i < j
    const squared = cdist(u, u).square().maskedSelect(offDiagonal);
    const uniformity = squared.mul(-2).exp().mean().log().item();
    const alignment = z2 ? u.sub(normalize(z2.detach().float(), { dim: 1 })).square().sum(1).mean().item() : undefined;
    const stdReference = 1 / Math.sqrt(d);
    const collapsed = std < COLLAPSED_STD_SHARE * stdReference || effectiveRank < 1.5;
    const warning = collapsed
      ? `representation collapse: per-dimension std of normalised embeddings ${std.toPrecision(3)} (1/sqrt(d) = ${stdReference.toPrecision(3)}), effective rank ${effectiveRank.toFixed(2)} of ${Math.min(n, d)}`
      : undefined;
    return { std, stdReference, effectiveRank, alignment, uniformity, collapsed, warning };
  });
}
