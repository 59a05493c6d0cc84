/**
 * The pieces the joint-embedding methods share: an encoder = backbone + projection MLP (the
 * network a momentum copy follows), and running the views through a network in one pass, so
 * that batch norm sees the 2N images together (as SimCLR, BYOL and the reference implementations
 * do), optionally in `splits` chunks (split batch norm: the MoCo CIFAR demo's single-process
 * substitute for per-GPU batch statistics).
 */
import { Layer } from '../nn/index.js';
import { type Tensor, cat, tidy } from '../tensor/index.js';

export class Encoder extends Layer {
  constructor(readonly backbone: Layer, readonly projection: Layer) {
    super();
    this.registerModule('backbone', backbone);
    this.registerModule('projection', projection);
  }
  forward(x: Tensor): Tensor {
    return this.projection.forward(this.backbone.forward(x));
  }
}

/** net on x [B, ...] in `splits` chunks of consecutive samples (batch statistics per chunk). */
export function forwardSplit(net: Layer, x: Tensor, splits = 1): Tensor {
  if (splits <= 1) return net.forward(x);
  if (x.size(0) % splits !== 0) throw new Error(`split batch norm: batch ${x.size(0)} is not divisible into ${splits} splits`);
  return tidy(() => cat(x.chunk(splits, 0).map((part) => net.forward(part)), 0));
}

/**
 * Runs `net` once per run of consecutive inputs of one shape [B, ...] (DINO's multi-crop wrapper: the
 * global crops together, then the local ones; FastSiam's views and their projections): net(x) per input.
 */
export function forwardCrops(net: Layer, crops: Tensor[]): Tensor[] {
  return tidy(() => {
    const out: Tensor[] = [];
    const shapeOf = (t: Tensor) => t.shape.slice(1).join();
    for (let i = 0; i < crops.length;) {
      let j = i + 1;
      while (j < crops.length && shapeOf(crops[j]) === shapeOf(crops[i])) j++;
      const b = crops[i].size(0);
      const joint = net.forward(j - i === 1 ? crops[i] : cat(crops.slice(i, j), 0));
      for (let k = 0; k < j - i; k++) out.push(joint.narrow(0, k * b, b));
      i = j;
    }
    return out;
  });
}

/** Both views through `net` together: returns [net(v1), net(v2)], each [N, D]. */
export function forwardViews(net: Layer, views: Tensor[], splits = 1): [Tensor, Tensor] {
  if (views.length !== 2) throw new Error(`expected two views, got ${views.length}`);
  return tidy(() => {
    const n = views[0].size(0);
    const out = forwardSplit(net, cat(views, 0), splits);
    return [out.narrow(0, 0, n), out.narrow(0, n, n)];
  });
}
