/**
 * Images to rows of patch pixels and back, in MAE's order (He et al., 2022, `patchify`): patch
 * (i, j) of a p x p grid becomes row i * w + j, its pixels ordered (row, column, channel); and
 * patch tokens picked by id, per image (MAE's visible patches, I-JEPA's context and target blocks).
 *
 * ```ts
 * const rows = patchify(images, 4);        // [B, 3, 32, 32] -> [B, 64, 48]
 * const back = unpatchify(rows, 4, 3);     // [B, 64, 48] -> [B, 3, 32, 32]
 * const fine = spreadCells(mask, 2);       // bool [B, 4, 4] -> [B, 8, 8]: each cell over 2x2 finer ones
 * const kept = gatherTokens(tokens, ids);  // [B, 64, 192], int64 [B, 16] -> [B, 16, 192]
 * ```
 */
import { type Tensor, arange, tidy } from '../tensor/index.js';

export function patchify(images: Tensor, patchSize: number): Tensor {
  const [b, c, height, width] = images.shape;
  if (images.ndim !== 4 || height % patchSize !== 0 || width % patchSize !== 0) {
    throw new Error(`patchify: expected images [B, C, H, W] with H and W multiples of ${patchSize}, got [${images.shape.join(', ')}]`);
  }
  const [h, w] = [height / patchSize, width / patchSize];
  return tidy(() => images.reshape(b, c, h, patchSize, w, patchSize)
    .permute(0, 2, 4, 3, 5, 1) // [B, h, w, p, p, C]
    .reshape(b, h * w, patchSize * patchSize * c));
}

export function unpatchify(rows: Tensor, patchSize: number, channels = 3): Tensor {
  const [b, n, d] = rows.shape;
  const grid = Math.round(Math.sqrt(n));
  if (rows.ndim !== 3 || grid * grid !== n || d !== patchSize * patchSize * channels) {
    throw new Error(`unpatchify: expected [B, g*g, ${patchSize * patchSize * channels}], got [${rows.shape.join(', ')}]`);
  }
  return tidy(() => rows.reshape(b, grid, grid, patchSize, patchSize, channels)
    .permute(0, 5, 1, 3, 2, 4) // [B, C, h, p, w, p]
    .reshape(b, channels, grid * patchSize, grid * patchSize));
}

/** A grid of cells [B, g, g] on a finer grid [B, g * factor, g * factor]: each cell covers factor x factor (SimMIM's masked squares). */
export function spreadCells(cells: Tensor, factor: number): Tensor {
  if (cells.ndim !== 3 || !(Number.isInteger(factor) && factor >= 1)) {
    throw new Error(`spreadCells: expected cells [B, g, g] and a whole factor, got [${cells.shape.join(', ')}] and ${factor}`);
  }
  return tidy(() => cells.repeatInterleave(factor, 1).repeatInterleave(factor, 2));
}

/** The rows `ids` [B, K] (int64) of `table` [B, N, D]: [B, K, D]. */
export function gatherTokens(table: Tensor, ids: Tensor): Tensor {
  return tidy(() => table.gather(1, ids.unsqueeze(-1).expand(ids.size(0), ids.size(1), table.size(2))));
}

/** Each image's target blocks `ids` [M, B, T] (int64) from `table` [B, N, D]: [M * B, T, D], block-major, without copying the table M times. */
export function gatherBlocks(table: Tensor, ids: Tensor): Tensor {
  const [m, b, t] = ids.shape;
  const [, n, d] = table.shape;
  return tidy(() => {
    const rows = ids.add(arange(0, b * n, n, { dtype: 'int64' }).view(1, b, 1)); // row of each patch in table [B * N, D]
    return table.reshape(b * n, d).indexSelect(0, rows.flatten()).reshape(m * b, t, d);
  });
}
