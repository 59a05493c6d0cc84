/**
 * iBOT (Zhou et al., 2022, "iBOT: Image BERT Pre-Training with Online Tokenizer"): DINO's
 * self-distillation of the [CLS] token across crops, plus masked image modelling with the teacher as
 * an online tokenizer. Each global crop is masked blockwise for the student (BEiT's mask generator;
 * half of the images, a ratio drawn from [0.1, 0.5], Sec. 4 / App. C), and the student's patch
 * tokens at the masked positions are distilled from the teacher's patch tokens of the unmasked crop
 * (`ibotPatchLoss`, its own centre). The projection head is shared by the [CLS] and patch tokens.
 * Loss = DINO's [CLS] loss + the patch loss (weights 1 and 1). Options add DINOv2's changes (a
 * separate patch head, Sinkhorn-Knopp targets, KoLeo): `DINOv2` (dinov2.ts) sets them.
 *
 * ```ts
 * const ibot = new IBOT(vitTiny({ imageSize: 32, patchSize: 4 }), { featureDim: 192, outDim: 4096 });
 * const { loss } = ibot.step([global1, global2, ...locals], null);
 * ```
 */
import { type TeacherCentering, dinoCenter, dinoLoss, ibotPatchCenter, ibotPatchLoss, koleoLoss, maskedPatchLoss, maskedRows } from '../losses/index.js';
import { DINOHead, VisionTransformer } from '../models/index.js';
import { type Layer, init } from '../nn/index.js';
import { emaUpdate, momentumEncoder } from '../optim/index.js';
import { type Tensor, cat, empty, noGrad, tidy, zeros } from '../tensor/index.js';
import { blockwiseMask, uniformStream } from '../transforms/index.js';
import { DINO, type DINOOptions, DINO_VIT_RECIPE } from './dino.js';
import { forwardCrops } from './twoViewEncoder.js';
import type { MethodStep } from './method.js';
import type { MethodRecipes } from './recipe.js';

/** DINO's views, optimizer, schedules and head on a ViT (iBOT's ViT-S/16 recipe: AdamW 5e-4 per 256, weight decay 0.04 -> 0.4, clipping 3). */
export const IBOT_RECIPE: MethodRecipes = {
  vit: { ...DINO_VIT_RECIPE, source: 'Zhou et al., 2022 (iBOT): DINO\'s multi-crop views and schedules (AdamW 5e-4 per 256, weight decay 0.04 -> 0.4, clipping 3)' },
};

export interface IBOTOptions extends DINOOptions {
  /** the range of the fraction of patches masked per image (default [0.1, 0.5]) */
  maskRatio?: [number, number];
  /** the share of images that are masked at all (default 0.5) */
  maskProbability?: number;
  /** DINOv2: the patch loss through a head of its own, student and teacher (default false: the [CLS] head, shared) */
  separatePatchHead?: boolean;
  /** DINOv2: the teacher's targets by Sinkhorn-Knopp instead of the running centres (default 'center') */
  centering?: 'center' | 'sinkhorn';
  /** DINOv2: the weight of the KoLeo regulariser on the student's [CLS] features of each global crop (default 0) */
  koleoWeight?: number;
}

export class IBOT extends DINO {
  readonly maskToken: Tensor; // [1, 1, dim]
  patchCenter: Tensor; // [1, K]
  /** the student's and teacher's patch heads: their [CLS] heads unless separatePatchHead */
  readonly studentPatchHead: Layer;
  readonly teacherPatchHead: Layer;
  private readonly uniform: () => number;

  constructor(readonly vit: VisionTransformer, private readonly ibot: IBOTOptions) {
    if (!(vit instanceof VisionTransformer)) throw new Error(`${new.target.name}: the backbone must be a ViT (vit_tiny, vit_small, vit_base)`);
    super(vit, ibot);
    this.maskToken = this.registerParameter('mask_token', init.truncNormal_(empty([1, 1, vit.dim]), 0.02, ibot.generator));
    this.patchCenter = this.registerBuffer('patch_center', zeros([1, this.center.size(1)]));
    if (ibot.separatePatchHead) {
      const head = this.registerModule('student_patch_head', new DINOHead(vit.dim, this.center.size(1), {
        hidden: ibot.hiddenDim, bottleneck: ibot.bottleneckDim, normLastLayer: ibot.normLastLayer, batchNorm: ibot.headBatchNorm, generator: ibot.generator,
      }));
      this.studentPatchHead = head;
      this.teacherPatchHead = this.registerModule('teacher_patch_head', momentumEncoder(head));
    } else {
      this.studentPatchHead = this.student.projection;
      this.teacherPatchHead = this.teacher.projection;
    }
    this.uniform = uniformStream(ibot.generator);
  }

  /** Whether the patch loss has heads of its own (DINOv2), or goes through the [CLS] heads (iBOT). */
  private get separatePatchHead(): boolean {
    return this.studentPatchHead !== this.student.projection;
  }

  private get centerings(): { cls: TeacherCentering; patch: TeacherCentering } {
    return this.ibot.centering === 'sinkhorn' ? { cls: 'sinkhorn', patch: 'sinkhorn' } : { cls: this.center, patch: this.patchCenter };
  }

  /** bool [B, N]: blockwise masks, each image masked with probability maskProbability at a ratio drawn from maskRatio. */
  sampleMasks(batch: number): Tensor {
    const grid = this.vit.gridSize;
    const [low, high] = this.ibot.maskRatio ?? [0.1, 0.5];
    return tidy(() => cat(Array.from({ length: batch }, () => {
      const masked = this.uniform() < (this.ibot.maskProbability ?? 0.5);
      const patches = masked ? Math.round((low + (high - low) * this.uniform()) * grid * grid) : 0;
      return blockwiseMask(1, grid, grid, { maskPatches: patches, minPatches: Math.min(patches, grid <= 8 ? 4 : 16) }, this.ibot.generator);
    }), 0));
  }

  /**
   * [CLS] scores [B, K] and patch scores of tokens [B, 1 + N, dim]: every patch's [B, N, K] through the
   * shared head (iBOT), or only the masked patches' rows [M, K] through the patch head (DINOv2).
   */
  private scores(tokens: Tensor, mask: Tensor, clsHead: Layer, patchHead: Layer): { cls: Tensor; patches: Tensor } {
    const [b, n, dim] = tokens.shape;
    if (!this.separatePatchHead) {
      const out = clsHead.forward(tokens.reshape(-1, dim)).reshape(b, n, -1); // [B, 1 + N, K]
      return { cls: out.select(1, 0), patches: out.slice(1, 1) };
    }
    return { cls: clsHead.forward(tokens.select(1, 0)), patches: patchHead.forward(maskedRows(tokens.slice(1, 1), mask)) };
  }

  override step(views: Tensor[]): MethodStep {
    const globals = this.globalCrops(views);
    const [b] = views[0].shape;
    const masks = views.slice(0, globals).map(() => this.sampleMasks(b)); // bool [B, N] per global crop
    const studentCls: Tensor[] = [];
    const studentPatches: Tensor[] = [];
    const studentFeatures: Tensor[] = []; // the backbone's [CLS] token [B, dim] per global crop (KoLeo's)
    masks.forEach((mask, i) => {
      const tokens = this.vit.forwardMasked(views[i], mask, this.maskToken); // [B, 1 + N, dim]
      const { cls, patches } = this.scores(tokens, mask, this.student.projection, this.studentPatchHead);
      studentFeatures.push(tokens.select(1, 0));
      studentCls.push(cls);
      studentPatches.push(patches);
    });
    const locals = forwardCrops(this.student, views.slice(globals)); // [B, K] per local crop
    const teacherBackbone = this.teacher.backbone as VisionTransformer;
    const teacher = noGrad(() => views.slice(0, globals).map((v, i) => this.scores(teacherBackbone.forwardTokens(v), masks[i], this.teacher.projection, this.teacherPatchHead)));
    const teacherCls = teacher.map((t) => t.cls);
    const teacherPatches = teacher.map((t) => t.patches);
    const centering = this.centerings;
    const clsLoss = dinoLoss([...studentCls, ...locals], teacherCls, centering.cls, this.temperatures);
    const patchLoss = this.separatePatchHead
      ? maskedPatchLoss(studentPatches, teacherPatches, masks, centering.patch, this.temperatures)
      : ibotPatchLoss(studentPatches, teacherPatches, masks, centering.patch, this.temperatures);
    const metrics: Record<string, number> = {
      ...this.teacherMetrics(teacherCls[0]), 'ibot/cls_loss': clsLoss.item(), 'ibot/patch_loss': patchLoss.item(), 'ibot/masked_share': noGrad(() => masks[0].float().mean().item()),
    };
    let loss = clsLoss.add(patchLoss);
    const koleoWeight = this.ibot.koleoWeight ?? 0;
    if (koleoWeight > 0) {
      // DINOv2: the sum over the global crops, each crop's batch on its own
      const koleo = studentFeatures.map((x) => koleoLoss(x)).reduce((a, c) => a.add(c));
      metrics['dinov2/koleo_loss'] = koleo.item();
      loss = loss.add(koleo.mul(koleoWeight));
    }
    if (this.ibot.centering !== 'sinkhorn') {
      // the patch centre from every patch (iBOT), or from the masked ones the patch head saw (DINOv2's separate head)
      DINO.moveCenter(this.center, noGrad(() => dinoCenter(this.center, teacherCls, this.o.centerMomentum ?? 0.9)));
      DINO.moveCenter(this.patchCenter, noGrad(() => ibotPatchCenter(this.patchCenter, teacherPatches, this.o.centerMomentum ?? 0.9)));
    }
    return { loss, embeddings: [studentCls[0].detach(), studentCls[1 % globals].detach()] as [Tensor, Tensor], metrics };
  }

  override beforeUpdate(progress: number): void {
    super.beforeUpdate(progress);
    if (this.separatePatchHead && this.lastLayerFrozen(progress)) (this.studentPatchHead as DINOHead).dropLastLayerGradients();
  }

  override afterStep(progress: number): void {
    super.afterStep(progress);
    if (this.separatePatchHead) emaUpdate(this.teacherPatchHead, this.studentPatchHead, this.teacherMomentum(progress));
  }
}
