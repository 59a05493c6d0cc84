/**
 * DINO's self-distillation loss (Caron et al., 2021, Eq. 1 / Alg. 1): the teacher's outputs on
 * the global crops are centred (minus a running centre c) and sharpened (temperature tau_t,
 * 0.04 -> 0.07), the student's outputs on every crop are softened (tau_s = 0.1), and the loss is
 * the cross-entropy H(P_t(x), P_s(x')) = -sum P_t log P_s averaged over the batch and over every
 * (teacher global crop, student crop) pair that are not the same view.
 * The centre moves by EMA of the teacher's batch mean, c <- m c + (1 - m) mean(g_t) (Eq. 4, m = 0.9).
 * DINOv2 (Oquab et al., 2023, Sec. 4) centres with Sinkhorn-Knopp instead (`'sinkhorn'`): the targets
 * are SwAV's codes of the teacher's scores over every global crop of the batch, with the teacher
 * temperature as epsilon (3 iterations), so each prototype gets an equal share.
 *
 * ```ts
 * const loss = dinoLoss(studentOut, teacherOut, center, { studentTemperature: 0.1, teacherTemperature: 0.04 });
 * const next = dinoCenter(center, teacherOut, 0.9);
 * const v2 = dinoLoss(studentOut, teacherOut, 'sinkhorn', temperatures);   // DINOv2's centring
 * ```
 */
import { type Tensor, allReduce, cat } from '../tensor/index.js';
import { crossViewCrossEntropy } from './crossViewCrossEntropy.js';
import { inFloat32 } from './float32.js';
import { sinkhornKnopp } from './swav.js';

export interface DinoTemperatures {
  studentTemperature: number;
  teacherTemperature: number;
}

/** How the teacher's scores become targets: minus a running centre [1, K] (DINO, iBOT), or Sinkhorn-Knopp (DINOv2). */
export type TeacherCentering = Tensor | 'sinkhorn';

/**
 * The teacher's targets (probabilities) from its scores [M, K] per crop: softmax((scores - center) / tau_t),
 * or the Sinkhorn-Knopp codes of all the crops' rows together at epsilon tau_t. No gradient.
 */
export function teacherTargets(teacher: Tensor[], centering: TeacherCentering, teacherTemperature: number): Tensor[] {
  return inFloat32((f) => {
    const scores = teacher.map((g) => f(g.detach()));
    if (centering !== 'sinkhorn') return scores.map((g) => g.sub(centering).div(teacherTemperature).softmax(-1));
    if (scores.every((g) => g.size(0) === 0)) return scores; // no rows (no masked patch in the batch): nothing to code
    const codes = sinkhornKnopp(cat(scores, 0), { epsilon: teacherTemperature, iterations: 3 }); // [sum M, K]
    let start = 0;
    return scores.map((g) => codes.slice(0, start, (start += g.size(0))));
  });
}

/** student: [B, K] per crop (globals first); teacher: [B, K] per global crop; centering: a centre [1, K] or 'sinkhorn'. */
export function dinoLoss(student: Tensor[], teacher: Tensor[], centering: TeacherCentering, t: DinoTemperatures): Tensor {
  if (teacher.length < 1 || student.length < teacher.length) {
    throw new Error(`dinoLoss: expected the teacher's global crops (got ${teacher.length}) to be the first of the student's crops (got ${student.length})`);
  }
  if (student.length < 2) throw new Error('dinoLoss: need at least two crops');
  return inFloat32((f) => {
    const targets = teacherTargets(teacher, centering, t.teacherTemperature); // [B, K] each
    const logProbs = student.map((s) => f(s).div(t.studentTemperature).logSoftmax(-1));
    return crossViewCrossEntropy(targets, logProbs);
  });
}

/**
 * The next centre [1, K]: m * center + (1 - m) * the mean teacher output over the batch and global
 * crops; across processes the mean of every rank's batch (all-reduced, as DINO's `update_center`).
 */
export function dinoCenter(center: Tensor, teacher: Tensor[], momentum: number): Tensor {
  return inFloat32((f) => {
    const batchMean = allReduce(cat(teacher.map((g) => f(g.detach())), 0).mean(0, true), 'mean');   // [1, K]
    return center.mul(momentum).add(batchMean.mul(1 - momentum));
  });
}
