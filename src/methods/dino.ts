/**
 * DINO (Caron et al., 2021, "Emerging Properties in Self-Supervised Vision Transformers", Alg. 1):
 * a student (backbone + DINO head) sees every crop, 2 global and N local; a teacher of the same
 * architecture, the EMA of the student (momentum 0.996 -> 1 on a cosine), sees the global crops only.
 * The loss is the cross-entropy between the teacher's centred, sharpened distribution (temperature
 * 0.04 -> 0.07 over the first 30% of training) and the student's (0.1) over every pair of different
 * views; the centre follows the teacher's batch mean by EMA (0.9). The head's last layer is frozen for
 * the first 1% of training (the paper's first epoch of 100), the student's gradients are clipped by
 * the trainer (`clipGrad: 3`), and the weight decay rises 0.04 -> 0.4 (trainer option).
 *
 * ```ts
 * const dino = new DINO(vitTiny({ imageSize: 32, patchSize: 4 }), { featureDim: 192, outDim: 4096 });
 * const { loss } = dino.step([global1, global2, ...locals], null);
 * ```
 */
import { type DinoTemperatures, dinoCenter, dinoLoss } from '../losses/index.js';
import type { Layer } from '../nn/index.js';
import { DINOHead } from '../models/index.js';
import { cosineMomentum, emaUpdate, linearWarmup, momentumEncoder } from '../optim/index.js';
import { type Generator, type Tensor, cat, keep, noGrad, tidy, zeros } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { relativeRowEntropy } from './relativeEntropy.js';
import { Encoder, forwardCrops } from './twoViewEncoder.js';
import type { MethodRecipe, MethodRecipes } from './recipe.js';
import type { ViewRecipe } from '../transforms/index.js';

/** 4096 prototypes (the paper's 65536 is ImageNet-sized), teacher temperature 0.04 -> 0.07, teacher momentum 0.996 -> 1. */
const DEFAULTS = { prototypes: 4096, teacherTemperature: 0.07, emaMomentum: 0.996 };

const DINO_COMMON = { colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 }, grayscale: 0.2, horizontalFlip: 0.5, interpolation: 'bicubic' as const };
const DINO_GLOBAL = { ...DINO_COMMON, crop: { scale: [0.4, 1] as [number, number] } };
/**
 * DINO's multi-crop (main_dino.py's DataAugmentationDINO): 2 global crops 0.4-1 (blur 1.0; blur 0.1 + solarize 0.2)
 * and 6 local crops 0.05-0.4 at 96/224 of the side (blur 0.5), all with flip, jitter 0.4/0.4/0.2/0.1 p 0.8, grey 0.2.
 * iBOT trains on them too.
 */
export const DINO_VIEWS: ViewRecipe = {
  views: [{ ...DINO_GLOBAL, blur: { p: 1, sigma: [0.1, 2] } }, { ...DINO_GLOBAL, blur: { p: 0.1, sigma: [0.1, 2] }, solarize: { p: 0.2 } }],
  localViews: { count: 6, sideFraction: 96 / 224, view: { ...DINO_COMMON, crop: { scale: [0.05, 0.4] }, blur: { p: 0.5, sigma: [0.1, 2] } } },
};

/** On a ViT: main_dino.py's AdamW 5e-4 per 256, weight decay 0.04 -> 0.4, clipping at 3; on a ResNet: solo-learn's CIFAR recipe. */
export const DINO_VIT_RECIPE: MethodRecipe = {
  source: 'Caron et al., 2021 (DINO) and main_dino.py: multi-crop views, AdamW 5e-4 per 256, weight decay 0.04 -> 0.4, warm-up 10 epochs, '
    + 'clipping 3, teacher 0.04 -> 0.07 and 0.996 -> 1',
  views: DINO_VIEWS,
  optimizer: 'adamw', baseLr: 5e-4, weightDecay: 0.04, finalWeightDecay: 0.4, warmupEpochs: 10, clipGrad: 3,
  options: DEFAULTS,
};
export const DINO_RECIPE: MethodRecipes = {
  vit: DINO_VIT_RECIPE,
  resnet: {
    ...DINO_VIT_RECIPE,
    source: 'solo-learn\'s CIFAR DINO on a ResNet: LARS 0.3 per 256, weight decay 1e-6, clipping 3, a batch-norm head with a free last-layer norm; DINO\'s views and teacher',
    optimizer: 'lars', baseLr: 0.3, weightDecay: 1e-6, finalWeightDecay: undefined,
    options: { ...DEFAULTS, headBatchNorm: true, normLastLayer: false },
  },
};

export interface DINOOptions {
  featureDim: number;
  /** prototypes K (the paper's 65536; 4096 suits small data) */
  outDim?: number;
  hiddenDim?: number;
  bottleneckDim?: number;
  /** weight-normalised last layer with its norm fixed at 1 (DINO's default for ViTs; solo-learn's CIFAR recipe: false) */
  normLastLayer?: boolean;
  /** batch norm in the head's hidden layers (DINO's use_bn_in_head) */
  headBatchNorm?: boolean;
  studentTemperature?: number;
  /** the teacher temperature after warm-up (default 0.04 -> 0.07) */
  teacherTemperature?: number;
  warmupTeacherTemperature?: number;
  /** fraction of training over which the teacher temperature warms up (default 0.3) */
  teacherWarmup?: number;
  centerMomentum?: number;
  /** start of the teacher's cosine momentum schedule (default 0.996) */
  momentum?: number;
  /** fraction of training with the head's last layer frozen (default 0.01) */
  freezeLastLayer?: number;
  /** number of global crops, the first views (default 2) */
  globalCrops?: number;
  generator?: Generator;
}

/** Mean entropy of softmax(logits / t) over the batch, divided by log K: 1 when the distribution is uniform (DINO's collapse). */
export function relativeEntropy(logits: Tensor, temperature: number): number {
  return tidy(() => relativeRowEntropy(noGrad(() => logits.div(temperature).softmax(-1))));
}

export class DINO extends SSLMethod {
  readonly student: Encoder;
  readonly teacher: Encoder;
  center: Tensor; // [1, K]
  protected progress = 0;
  override readonly backboneKey = 'student.backbone';

  constructor(readonly backbone: Layer, protected readonly o: DINOOptions) {
    super();
    const head = new DINOHead(o.featureDim, o.outDim ?? DEFAULTS.prototypes, { hidden: o.hiddenDim, bottleneck: o.bottleneckDim, normLastLayer: o.normLastLayer, batchNorm: o.headBatchNorm, generator: o.generator });
    this.student = this.registerModule('student', new Encoder(backbone, head));
    this.teacher = this.registerModule('teacher', momentumEncoder(this.student));
    this.center = this.registerBuffer('center', zeros([1, o.outDim ?? DEFAULTS.prototypes]));
  }

  /** The teacher temperature at this point of training. */
  teacherTemperature(): number {
    return linearWarmup(this.o.warmupTeacherTemperature ?? 0.04, this.o.teacherTemperature ?? DEFAULTS.teacherTemperature, this.o.teacherWarmup ?? 0.3)(this.progress);
  }

  protected get temperatures(): DinoTemperatures {
    return { studentTemperature: this.o.studentTemperature ?? 0.1, teacherTemperature: this.teacherTemperature() };
  }

  protected globalCrops(views: Tensor[]): number {
    const globals = this.o.globalCrops ?? 2;
    if (views.length < globals) throw new Error(`${this.constructor.name}: expected at least ${globals} global crops, got ${views.length} views`);
    return globals;
  }

  /** Moves `buffer` to `next` (both [1, K]) in place, unless the step's outputs were not finite (the trainer skips that step). */
  protected static moveCenter(buffer: Tensor, next: Tensor): void {
    if (!tidy(() => next.isfinite().all().item())) return;
    const kept = keep(next);
    buffer.copy_(kept);
    kept.dispose();
  }

  step(views: Tensor[]): MethodStep {
    const globals = this.globalCrops(views);
    const student = forwardCrops(this.student, views); // [B, K] per crop
    const teacher = noGrad(() => forwardCrops(this.teacher, views.slice(0, globals)));
    const loss = dinoLoss(student, teacher, this.center, this.temperatures);
    const metrics = this.teacherMetrics(teacher[0]);
    DINO.moveCenter(this.center, noGrad(() => dinoCenter(this.center, teacher, this.o.centerMomentum ?? 0.9)));
    return { loss, embeddings: [student[0].detach(), student[1 % student.length].detach()] as [Tensor, Tensor], metrics };
  }

  /** The teacher temperature and how close its centred, sharpened distribution is to uniform (1 = collapsed). */
  protected teacherMetrics(teacher: Tensor): Record<string, number> {
    const temperature = this.teacherTemperature();
    return { 'dino/teacher_temperature': temperature, 'dino/teacher_entropy': relativeEntropy(noGrad(() => teacher.sub(this.center)), temperature) };
  }
  /** Whether the heads' last layers are still frozen at `progress` (the first 1% of training by default). */
  protected lastLayerFrozen(progress: number): boolean {
    return progress < (this.o.freezeLastLayer ?? 0.01);
  }

  /** The teacher's EMA momentum at `progress`: a cosine from o.momentum (0.996) to 1. */
  protected teacherMomentum(progress: number): number {
    return cosineMomentum(this.o.momentum ?? DEFAULTS.emaMomentum, progress);
  }

  override beforeUpdate(progress: number): void {
    if (this.lastLayerFrozen(progress)) (this.student.projection as DINOHead).dropLastLayerGradients();
  }

  override afterStep(progress: number): void {
    this.progress = progress;
    emaUpdate(this.teacher, this.student, this.teacherMomentum(progress));
  }
}
