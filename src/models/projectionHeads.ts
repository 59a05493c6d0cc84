/**
 * Projection and prediction MLPs of the joint-embedding methods, built from nn.MLP:
 * - SimCLR (Chen et al., 2020) and MoCo v2: Linear-BN-ReLU-Linear, 2048 hidden, 128 out.
 * - BYOL (Grill et al., 2020) projector/predictor: Linear-BN-ReLU-Linear, 4096 hidden, 256 out.
 * - SimSiam (Chen & He, 2021) projector: 3 layers with BN, the last BN without affine.
 * - MoCo v3 (Chen et al., 2021) projector: 3 layers, predictor 2 layers, BN on the last
 *   layer without affine for the projector.
 *
 * ```ts
 * const head = simclrProjection(512);            // [N, 512] -> [N, 128]
 * ```
 */
import { type Generator } from '../tensor/index.js';
import { MLP } from '../nn/index.js';

export const simclrProjection = (inDim: number, hidden = 2048, out = 128, generator?: Generator): MLP =>
  new MLP([inDim, hidden, out], { norm: 'batch', generator });

export const byolProjection = (inDim: number, hidden = 4096, out = 256, generator?: Generator): MLP =>
  new MLP([inDim, hidden, out], { norm: 'batch', generator });

/** BYOL, SimSiam (hidden 512) and MoCo v3 predictors. */
export const predictionHead = (dim: number, hidden = 4096, out = dim, generator?: Generator): MLP =>
  new MLP([dim, hidden, out], { norm: 'batch', generator });

export const simsiamProjection = (inDim: number, dim = 2048, generator?: Generator): MLP =>
  new MLP([inDim, dim, dim, dim], { norm: 'batch', lastNorm: true, generator });

export const mocoV3Projection = (inDim: number, hidden = 4096, out = 256, generator?: Generator): MLP =>
  new MLP([inDim, hidden, hidden, out], { norm: 'batch', lastNorm: true, generator });
