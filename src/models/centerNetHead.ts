/**
 * CenterNet's head (Zhou et al., 2019, "Objects as Points"): an anchor-free single-stage detector
 * on one feature map. Three branches of 3x3 conv -> ReLU -> 1x1 conv predict, at every cell, a
 * centre heatmap per class (its bias starts at -2.19, so sigmoid = 0.1, Sec. 4 / RetinaNet's prior),
 * the box size (w, h in cells) and the sub-cell offset of the centre. A batch norm first puts
 * frozen features of any scale (ResNet maps, ViT tokens) on one footing.
 *
 * ```ts
 * const head = new CenterNetHead(512, 3);
 * const { heatmap, size, offset } = head.parts(map);   // [B, 3, h, w], [B, 2, h, w], [B, 2, h, w]
 * ```
 */
import { BatchNorm2d, Conv2d, Layer, ReLU, Sequential, init } from '../nn/index.js';
import { type Generator, type Tensor, cat, tidy } from '../tensor/index.js';

const branch = (inC: number, hidden: number, outC: number, g?: Generator): Sequential =>
  new Sequential(new Conv2d(inC, hidden, 3, { padding: 1, generator: g }), new ReLU(), new Conv2d(hidden, outC, 1, { generator: g }));

export class CenterNetHead extends Layer {
  readonly norm: BatchNorm2d;
  readonly heatmap: Sequential;
  readonly size: Sequential;
  readonly offset: Sequential;

  constructor(readonly inChannels: number, readonly numClasses: number, o: { hidden?: number; generator?: Generator } = {}) {
    super();
    const hidden = o.hidden ?? 64;
    this.norm = this.registerModule('norm', new BatchNorm2d(inChannels));
    this.heatmap = this.registerModule('heatmap', branch(inChannels, hidden, numClasses, o.generator));
    this.size = this.registerModule('size', branch(inChannels, hidden, 2, o.generator));
    this.offset = this.registerModule('offset', branch(inChannels, hidden, 2, o.generator));
    init.constant_((this.heatmap.layers[2] as Conv2d).bias!, -2.19);
  }

  /** Heatmap logits [B, classes, h, w], sizes [B, 2, h, w] (w, h in cells) and offsets [B, 2, h, w] (x, y) of a map [B, C, h, w]. */
  parts(map: Tensor): { heatmap: Tensor; size: Tensor; offset: Tensor } {
    return tidy(() => {
      const x = this.norm.forward(map);
      return { heatmap: this.heatmap.forward(x), size: this.size.forward(x), offset: this.offset.forward(x) };
    });
  }

  /** The three outputs concatenated: [B, classes + 4, h, w]. */
  forward(map: Tensor): Tensor {
    const { heatmap, size, offset } = this.parts(map);
    return cat([heatmap, size, offset], 1);
  }
}
