/**
 * DINOv2 (Oquab et al., 2023, "DINOv2: Learning Robust Visual Features without Supervision", Sec. 4):
 * iBOT with what the paper adds to it: the teacher's targets, image and patch, centred by
 * Sinkhorn-Knopp (3 iterations) instead of running centres; separate heads for the [CLS] (DINO) and
 * the masked-patch (iBOT) losses; the KoLeo regulariser (weight 0.1) on the student's [CLS] features
 * of each global crop, spreading them over the sphere. The views are DINO's multi-crop with the
 * paper's crop scales (global 0.32-1, 8 locals 0.05-0.32 at 98/224 of the side).
 * Not included: the paper's data curation (LVD-142M), the high-resolution phase at the end,
 * stochastic depth, layer-wise learning-rate decay, and the efficient-attention kernels.
 *
 * ```ts
 * const dinov2 = new DINOv2(vitTiny({ imageSize: 32, patchSize: 4, layerScale: 1e-5 }), { featureDim: 192, outDim: 4096 });
 * const { loss, metrics } = dinov2.step([global1, global2, ...locals], null);   // metrics['dinov2/koleo_loss']
 * ```
 */
import type { VisionTransformer } from '../models/index.js';
import { DINO_VIEWS, DINO_VIT_RECIPE } from './dino.js';
import { IBOT, type IBOTOptions } from './ibot.js';
import type { MethodRecipes } from './recipe.js';

/** The paper's additions at its settings: Sinkhorn-Knopp centring, separate heads, KoLeo 0.1. */
const DINOV2_DEFAULTS = { centering: 'sinkhorn', separatePatchHead: true, koleoWeight: 0.1 } as const;

const [firstGlobal, secondGlobal] = DINO_VIEWS.views;
export const DINOV2_RECIPE: MethodRecipes = {
  vit: {
    ...DINO_VIT_RECIPE,
    source: 'Oquab et al., 2023 (DINOv2) and its ssl_default_config: DINO\'s multi-crop with global crops 0.32-1 and 8 local crops 0.05-0.32 at 98/224, '
      + 'AdamW 4e-3 x sqrt(batch / 1024) (2e-3 at 256, here per 256), weight decay 0.04 -> 0.4, warm-up 10 epochs, clipping 3, '
      + 'teacher 0.04 -> 0.07 and 0.992 -> 1, layer scale 1e-5, KoLeo 0.1, Sinkhorn-Knopp centring, separate heads',
    views: {
      views: [{ ...firstGlobal, crop: { scale: [0.32, 1] } }, { ...secondGlobal, crop: { scale: [0.32, 1] } }],
      localViews: { count: 8, sideFraction: 98 / 224, view: { ...DINO_VIEWS.localViews!.view, crop: { scale: [0.05, 0.32] } } },
    },
    baseLr: 2e-3,
    vitOptions: { layerScale: 1e-5 },
    options: { ...DINO_VIT_RECIPE.options, emaMomentum: 0.992 },
  },
};

export class DINOv2 extends IBOT {
  constructor(vit: VisionTransformer, o: IBOTOptions) {
    super(vit, { ...DINOV2_DEFAULTS, ...o });
  }
}
