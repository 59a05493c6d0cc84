/**
 * The drawing of the synthetic shape sets (segmentation and detection): a smooth textured
 * background, and discs, squares and triangles of radius r around (cy, cx), each shape class in its
 * own colour family at a random brightness. Coordinates are in pixels on [H, W] grids of pixel
 * positions.
 */
import { type Generator, type Tensor, interpolate, rand, tensor, tidy } from '../tensor/index.js';

export const SHAPE_CLASSES = ['disc', 'square', 'triangle'] as const;
/** Base RGB of each shape class (disc reddish, square greenish, triangle bluish). */
const FAMILY = [[0.85, 0.25, 0.2], [0.25, 0.8, 0.3], [0.25, 0.35, 0.9]];

/** A smooth grey-brown texture: 4x4 random values, bicubic to the image, in [0.35, 0.65]: [3, size, size]. */
export function texturedBackground(size: number, generator: Generator): Tensor {
  return tidy(() => interpolate(rand([1, 3, 4, 4], { generator }), [size, size], 'bicubic').squeeze(0).mul(0.3).add(0.35).clamp(0, 1));
}

/**
 * bool [H, W]: the pixels of shape `shape` (0 disc, 1 square, 2 triangle with its apex at the top and
 * its base at cy + r, as wide as the square) centred at (cy, cx), for pixel positions ys, xs [H, W].
 */
export function shapeInside(ys: Tensor, xs: Tensor, shape: number, cy: number, cx: number, r: number): Tensor {
  return tidy(() => {
    const dy = ys.sub(cy);
    const dx = xs.sub(cx);
    if (shape === 0) return dy.square().add(dx.square()).le(r * r);
    if (shape === 1) return dy.abs().le(r).logicalAnd(dx.abs().le(r));
    return dy.le(r).logicalAnd(dx.abs().mul(2).le(dy.add(r)));
  });
}

/** The colour of a shape of class `shape` at `brightness` in [0, 1]: [3, 1, 1]. */
export function shapeColour(shape: number, brightness: number): Tensor {
  return tensor(FAMILY[shape].map((c) => c * brightness)).view(3, 1, 1);
}
