/**
 * iBOT's masked-patch self-distillation (Zhou et al., 2022, "iBOT: Image BERT Pre-Training with
 * Online Tokenizer", Eq. 2): for each global crop, the student sees it with some patches replaced
 * by a mask token and predicts, at each masked patch, the teacher's centred, sharpened distribution
 * for the same patch of the unmasked crop. Per image the cross-entropy is averaged over its masked
 * patches (images with none add 0), then over the batch and the crops. `maskedPatchLoss` is the same
 * on the masked patches' rows alone, as DINOv2 (Oquab et al., 2023) runs its patch head on them only;
 * with `'sinkhorn'` the targets are the Sinkhorn-Knopp codes of the masked patches of every crop together.
 *
 * ```ts
 * const loss = ibotPatchLoss([s1, s2], [t1, t2], [m1, m2], patchCenter, { studentTemperature: 0.1, teacherTemperature: 0.04 });
 * const v2 = maskedPatchLoss([maskedRows(s1, m1), ...], [maskedRows(t1, m1), ...], [m1, m2], 'sinkhorn', temperatures);
 * ```
 */
import { type Tensor, allReduce } from '../tensor/index.js';
import { inFloat32 } from './float32.js';
import { type DinoTemperatures, type TeacherCentering, teacherTargets } from './dino.js';

/** The rows of x [B, N, D] where mask [B, N] is true, in row-major order: [M, D]. */
export function maskedRows(x: Tensor, mask: Tensor): Tensor {
  return x.reshape(-1, x.size(-1)).indexSelect(0, mask.reshape(-1).nonzero().squeeze(1));
}

function checkCrops(name: string, student: Tensor[], teacher: Tensor[], masks: Tensor[]): void {
  if (student.length !== teacher.length || student.length !== masks.length || student.length === 0) {
    throw new Error(`${name}: expected as many student crops (${student.length}), teacher crops (${teacher.length}) and masks (${masks.length}), at least one`);
  }
}

/** student, teacher: [B, N, K] per global crop; masks: bool [B, N] (true = masked for the student); centering: a centre [1, K] or 'sinkhorn'. */
export function ibotPatchLoss(student: Tensor[], teacher: Tensor[], masks: Tensor[], centering: TeacherCentering, t: DinoTemperatures): Tensor {
  checkCrops('ibotPatchLoss', student, teacher, masks);
  return maskedPatchLoss(student.map((s, i) => maskedRows(s, masks[i])), teacher.map((g, i) => maskedRows(g, masks[i])), masks, centering, t);
}

/** student, teacher: [M_i, K] per global crop, the rows of its masked patches (maskedRows); masks: bool [B, N] per crop. */
export function maskedPatchLoss(student: Tensor[], teacher: Tensor[], masks: Tensor[], centering: TeacherCentering, t: DinoTemperatures): Tensor {
  checkCrops('maskedPatchLoss', student, teacher, masks);
  return inFloat32((f) => {
    const targets = teacherTargets(teacher, centering, t.teacherTemperature); // [M_i, K] each
    let total: Tensor | null = null;
    for (let i = 0; i < student.length; i++) {
      const perPatch = targets[i].mul(f(student[i]).div(t.studentTemperature).logSoftmax(-1)).sum(-1).neg(); // [M_i]
      // each masked patch weighs 1 / (its image's masked patches): a mean per image, then over the batch
      const image = masks[i].nonzero().select(1, 0); // [M_i]
      const weight = masks[i].float().sum(-1).clamp(1).reciprocal().indexSelect(0, image);
      const term = perPatch.mul(weight).sum().div(masks[i].size(0));
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
