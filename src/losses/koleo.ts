/**
 * The KoLeo regulariser (Sablayrolles et al., 2019, "Spreading vectors for similarity search",
 * Eq. 5; DINOv2, Oquab et al., 2023, Sec. 4): the Kozachenko-Leonenko entropy estimate of a batch of
 * L2-normalised features, -1/n sum_i log(min_{j != i} ||x_i - x_j||), which pushes each feature away
 * from its nearest neighbour so the batch spreads evenly over the sphere. As DINOv2's KoLeoLoss: the
 * nearest neighbour by cosine (no gradient through the choice), the distance as
 * PairwiseDistance(eps 1e-8), log(distance + 1e-8). In float32.
 *
 * ```ts
 * const loss = koleoLoss(studentCls);   // [B, D] backbone features of one global crop -> a scalar
 * ```
 */
import { type Tensor, eye, noGrad, normalize } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

const EPS = 1e-8;

export function koleoLoss(features: Tensor): Tensor {
  if (features.ndim !== 2 || features.size(0) < 2) throw new Error(`koleoLoss: expected features [B, D] with B >= 2, got [${features.shape.join(', ')}]`);
  return inFloat32((f) => {
    const x = normalize(f(features), { eps: EPS }); // [B, D]
    const neighbour = noGrad(() => x.matmul(x.T).maskedFill(eye(x.size(0), x.size(0), { dtype: 'bool' }), -2).argmax(1)); // [B]
    const distance = x.sub(x.indexSelect(0, neighbour)).add(EPS).norm(2, 1); // [B], as torch's PairwiseDistance
    return distance.add(EPS).log().mean().neg();
  });
}
