/**
 * iBOT (Zhou et al., 2022, "iBOT: Image BERT Pre-Training with Online Tokenizer"): DINO's
 * self-distillation of the [CLS] token across crops, plus masked image modelling with the teacher as
 * an online tokenizer. Each global crop is masked blockwise for the student (BEiT's mask generator;
 * half of the images, a ratio drawn from [0.1, 0.5], Sec. 4 / App. C), and the student's patch
 * tokens at the masked positions are distilled from the teacher's patch tokens of the unmasked crop
 * (`ibotPatchLoss`, its own centre). The projection head is shared by the [CLS] and patch tokens.
 * Loss = DINO's [CLS] loss + the patch loss (weights 1 and 1).
 *
 * ```ts
 * const ibot = new IBOT(vitTiny({ imageSize: 32, patchSize: 4 }), { featureDim: 192, outDim: 4096 });
 * const { loss } = ibot.step([global1, global2, ...locals], null);
 * ```
 */
import { dinoCenter, dinoLoss, ibotPatchCenter, ibotPatchLoss } from '../losses/index.js';
import { VisionTransformer } from '../models/index.js';
import { init } from '../nn/index.js';
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
}

export class IBOT extends DINO {
  readonly maskToken: Tensor; // [1, 1, dim]
  patchCenter: Tensor; // [1, K]
  private readonly uniform: () => number;

  constructor(readonly vit: VisionTransformer, private readonly ibot: IBOTOptions) {
    if (!(vit instanceof VisionTransformer)) throw new Error('iBOT: the backbone must be a ViT (vit_tiny, vit_small, vit_base)');
    super(vit, ibot);
    this.maskToken = this.registerParameter('mask_token', init.truncNormal_(empty([1, 1, vit.dim]), 0.02, ibot.generator));
    this.patchCenter = this.registerBuffer('patch_center', zeros([1, this.center.size(1)]));
    this.uniform = uniformStream(ibot.generator);
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

  override step(views: Tensor[]): MethodStep {
    const globals = this.globalCrops(views);
    const head = this.student.projection;
    const [b] = views[0].shape;
    const masks = views.slice(0, globals).map(() => this.sampleMasks(b)); // bool [B, N] per global crop
    const studentCls: Tensor[] = [];
    const studentPatches: Tensor[] = [];
    masks.forEach((mask, i) => {
      const tokens = this.vit.forwardMasked(views[i], mask, this.maskToken); // [B, 1 + N, dim]
      const [, n, dim] = tokens.shape;
      const out = head.forward(tokens.reshape(-1, dim)).reshape(b, n, -1); // [B, 1 + N, K]
      studentCls.push(out.select(1, 0));
      studentPatches.push(out.slice(1, 1));
    });
    const locals = forwardCrops(this.student, views.slice(globals)); // [B, K] per local crop
    const teacherBackbone = this.teacher.backbone as VisionTransformer;
    const teacher = noGrad(() => views.slice(0, globals).map((v) => {
      const tokens = teacherBackbone.forwardTokens(v); // [B, 1 + N, dim]
      const [, n, dim] = tokens.shape;
      return this.teacher.projection.forward(tokens.reshape(-1, dim)).reshape(b, n, -1); // [B, 1 + N, K]
    }));
    const teacherCls = teacher.map((t) => t.select(1, 0));
    const teacherPatches = teacher.map((t) => t.slice(1, 1));
    const clsLoss = dinoLoss([...studentCls, ...locals], teacherCls, this.center, this.temperatures);
    const patchLoss = ibotPatchLoss(studentPatches, teacherPatches, masks, this.patchCenter, this.temperatures);
    const metrics = { ...this.teacherMetrics(teacherCls[0]), 'ibot/cls_loss': clsLoss.item(), 'ibot/patch_loss': patchLoss.item(), 'ibot/masked_share': noGrad(() => masks[0].float().mean().item()) };
    DINO.moveCenter(this.center, noGrad(() => dinoCenter(this.center, teacherCls, this.o.centerMomentum ?? 0.9)));
    DINO.moveCenter(this.patchCenter, noGrad(() => ibotPatchCenter(this.patchCenter, teacherPatches, this.o.centerMomentum ?? 0.9)));
    return { loss: clsLoss.add(patchLoss), embeddings: [studentCls[0].detach(), studentCls[1 % globals].detach()] as [Tensor, Tensor], metrics };
  }
}
