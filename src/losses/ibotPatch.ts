/**
 * iBOT's masked-patch self-distillation (Zhou et al., 2022, "iBOT: Image BERT Pre-Training with
 * Online Tokenizer", Eq. 2): for each global crop, the student sees it with some patches replaced
 * by a mask token and predicts, at each masked patch, the teacher's centred, sharpened distribution
 * for the same patch of the unmasked crop. Per image the cross-entropy is averaged over its masked
 * patches (images with none add 0), then over the batch and the crops.
 *
 * ```ts
 * const loss = ibotPatchLoss([s1, s2], [t1, t2], [m1, m2], patchCenter, { studentTemperature: 0.1, teacherTemperature: 0.04 });
 * ```
 */
import { type Tensor, allReduce } from '../tensor/index.js';
import { inFloat32 } from './float32.js';
import type { DinoTemperatures } from './dino.js';

/** student, teacher: [B, N, K] per global crop; masks: bool [B, N] (true = masked for the student); center: [1, K]. */
export function ibotPatchLoss(student: Tensor[], teacher: Tensor[], masks: Tensor[], center: Tensor, t: DinoTemperatures): Tensor {
  if (student.length !== teacher.length || student.length !== masks.length || student.length === 0) {
    throw new Error(`ibotPatchLoss: expected as many student crops (${student.length}), teacher crops (${teacher.length}) and masks (${masks.length}), at least one`);
  }
  return inFloat32((f) => {
    let total: Tensor | null = null;
    for (let i = 0; i < student.length; i++) {
      const s = f(student[i]);
      const target = f(teacher[i].detach()).sub(center).div(t.teacherTemperature).softmax(-1); // [B, N, K]
      const perPatch = target.mul(s.div(t.studentTemperature).logSoftmax(-1)).sum(-1).neg(); // [B, N]
      const m = masks[i].float();
      const term = perPatch.mul(m).sum(-1).div(m.sum(-1).clamp(1)).mean();
      total = total ? total.add(term) : term;
    }
    return total!.div(student.length);
  });
}

/** The next patch centre [1, K]: m * center + (1 - m) * the teacher's mean over crops, images and patches (and ranks). */
export function ibotPatchCenter(center: Tensor, teacher: Tensor[], momentum: number): Tensor {
  return inFloat32((f) => {
    const mean = allReduce(teacher.map((g) => f(g.detach()).reshape(-1, g.size(-1)).mean(0, true)).reduce((a, b) => a.add(b)).div(teacher.length), 'mean');
    return center.mul(momentum).add(mean.mul(1 - momentum));
  });
}
