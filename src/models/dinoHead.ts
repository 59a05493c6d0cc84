/**
 * DINO head (Caron et al., 2021): an MLP (GELU, no BN by default) to a bottleneck,
 * L2 normalisation, then a weight-normalised linear layer to K prototypes,
 * W_k = g_k v_k / ||v_k||, with g fixed to 1 (norm_last_layer) by default.
 * Keys as DINO: mlp.N.*, last_layer.weight_g, last_layer.weight_v.
 *
 * ```ts
 * const head = new DINOHead(384, 65536);
 * const logits = head.forward(cls);              // [B, 384] -> [B, 65536]
 * head.dropLastLayerGradients();                 // during the first epoch, after backward
 * ```
 */
import { type Generator, type Tensor, empty, linear, normalize, ones } from '../tensor/index.js';
import { BatchNorm1d, GELU, Layer, Linear, Module, Sequential, init } from '../nn/index.js';

export interface DINOHeadOptions {
  hidden?: number;
  bottleneck?: number;
  layers?: number;
  /** fix the norm of every prototype to 1 (DINO's default, for stability) */
  normLastLayer?: boolean;
  /** batch norm after each hidden layer (DINO's use_bn_in_head) */
  batchNorm?: boolean;
  generator?: Generator;
}

class WeightNormLinear extends Module {
  readonly weightG: Tensor; // [out, 1]
  readonly weightV: Tensor; // [out, in]
  constructor(inDim: number, outDim: number, fixNorm: boolean, g?: Generator) {
    super();
    this.weightV = this.registerParameter('weight_v', init.truncNormal_(empty([outDim, inDim]), 0.02, g));
    this.weightG = this.registerParameter('weight_g', ones([outDim, 1]));
    if (fixNorm) this.weightG.requiresGrad_(false);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weightV.div(this.weightV.norm(2, 1, true)).mul(this.weightG));
  }
}

export class DINOHead extends Layer {
  readonly mlp: Sequential;
  readonly lastLayer: WeightNormLinear;

  constructor(inDim: number, outDim: number, o: DINOHeadOptions = {}) {
    super();
    const hidden = o.hidden ?? 2048;
    const bottleneck = o.bottleneck ?? 256;
    const layers = Math.max(1, o.layers ?? 3);
    const parts: Layer[] = [];
    const dims = layers === 1 ? [inDim, bottleneck] : [inDim, ...Array(layers - 1).fill(hidden), bottleneck];
    for (let i = 0; i < dims.length - 1; i++) {
      const fc = new Linear(dims[i], dims[i + 1], { generator: o.generator });
      init.truncNormal_(fc.weight, 0.02, o.generator);
      init.constant_(fc.bias!, 0);
      parts.push(fc);
      if (i < dims.length - 2) {
        if (o.batchNorm) parts.push(new BatchNorm1d(dims[i + 1]));
        parts.push(new GELU());
      }
    }
    this.mlp = this.registerModule('mlp', new Sequential(...parts));
    this.lastLayer = this.registerModule('last_layer', new WeightNormLinear(bottleneck, outDim, o.normLastLayer ?? true, o.generator));
  }

  /** [B, inDim] -> [B, outDim] prototype scores. */
  forward(x: Tensor): Tensor {
    return this.lastLayer.forward(normalize(this.mlp.forward(x), { dim: -1 }));
  }

  /** DINO freezes the last layer in the first epoch by dropping its gradients after backward. */
  dropLastLayerGradients(): void {
    this.lastLayer.zeroGrad();
  }
}
