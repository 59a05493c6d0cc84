/**
 * A Vision Transformer backbone (src/models/vit.ts) as an ONNX graph in evaluation form: patch
 * embedding (a strided convolution), the cls token (expanded to the batch) and position table,
 * pre-norm blocks (LayerNormalization, multi-head attention as MatMul / Softmax, exact GELU MLP,
 * LayerScale when the model has it), the final norm, then the cls token or the mean of the patch
 * tokens. Outputs: `pooler_output` [batch, dim] (what `backbone.forward` returns) and
 * `last_hidden_state` [batch, 1 + patches, dim] (every token after the final norm). The position
 * table is fixed at the training size, so the graph takes images of that size only.
 */
import { type Block, LayerScale, type VisionTransformer } from '../models/vit.js';
import { Identity } from '../nn/index.js';
import { tidy } from '../tensor/index.js';
import { geluOnnx, layerNormOnnx, linearOnnx } from './onnxLayers.js';
import type { OnnxGraph } from './onnxGraph.js';

export function vitOnnx(g: OnnxGraph, vit: VisionTransformer, pixels: string): { pooled: string; tokens: string; tokenDims: number[] } {
  if (vit.head !== null) throw new Error('ONNX export: a ViT with a classifier head is not a backbone; export the backbone of a run');
  const dim = vit.dim;
  const patches = vit.gridSize * vit.gridSize;
  const constants = {
    invSqrt2: g.scalar('const.inv_sqrt2', Math.SQRT1_2), one: g.scalar('const.one', 1), half: g.scalar('const.half', 0.5),
  };

  // [B, 3, H, W] -> [B, dim, g, g] -> [B, dim, N] -> [B, N, dim], plus the patch position table.
  const proj = vit.patchEmbed.proj;
  const map = g.node('Conv', [pixels, g.weight('patch_embed.proj.weight', proj.weight), g.weight('patch_embed.proj.bias', proj.bias!)],
    { kernel_shape: [vit.patchSize, vit.patchSize], strides: [vit.patchSize, vit.patchSize] }, 'patch_embed.proj');
  const flat = g.node('Reshape', [map, g.int64s('shape.patches', [0, dim, -1])], {}, 'patch_embed.flatten');
  const tokens = g.node('Transpose', [flat], { perm: [0, 2, 1] }, 'patch_embed');
  const patchTable = tidy(() => vit.posEmbed.slice(1, 1));
  const placed = g.node('Add', [tokens, g.weight('pos_embed.patches', patchTable)], {}, 'patch_tokens');
  patchTable.dispose();

  // cls token + its position embedding, [1, 1, dim] expanded to [B, 1, dim].
  const clsValue = tidy(() => vit.clsToken.add(vit.posEmbed.slice(1, 0, 1)));
  const cls = g.weight('cls_token_with_pos', clsValue);
  clsValue.dispose();
  const batch = g.node('Slice', [g.node('Shape', [pixels], {}, 'input_shape'), g.int64s('const.zero', [0]), g.int64s('const.one_i', [1])], {}, 'batch_size');
  const clsShape = g.node('Concat', [batch, g.int64s('shape.cls_tail', [1, dim])], { axis: 0 }, 'shape.cls');
  const clsTokens = g.node('Expand', [cls, clsShape], {}, 'cls_tokens');
  let h = g.node('Concat', [clsTokens, placed], { axis: 1 }, 'tokens');

  const heads = vit.blocks[0]?.attn.heads ?? 1;
  const headDim = dim / heads;
  const shapes = {
    qkv: g.int64s('shape.qkv', [0, 0, 3, heads, headDim]),
    merged: g.int64s('shape.merged', [0, 0, dim]),
    scale: g.scalar('const.attention_scale', 1 / Math.sqrt(headDim)),
    indices: [0, 1, 2].map((i) => g.int64s(`const.index${i}`, [i], [])),
  };
  vit.blocks.forEach((block, i) => { h = blockOnnx(g, h, block, `blocks.${i}`, shapes, constants); });
  const normed = layerNormOnnx(g, h, vit.norm, 'norm');
  const pooled = vit.pool === 'mean'
    ? g.node('ReduceMean', [g.node('Slice', [normed, g.int64s('const.one_start', [1]), g.int64s('const.end', [1 + patches]), g.int64s('const.axis1', [1])], {}, 'patch_outputs')],
      { axes: [1], keepdims: 0 }, 'pooled')
    : g.node('Gather', [normed, shapes.indices[0]], { axis: 1 }, 'pooled');
  return { pooled, tokens: normed, tokenDims: [1 + patches, dim] };
}

interface BlockShapes { qkv: string; merged: string; scale: string; indices: string[] }

/** x + attn(norm1(x)), then x + mlp(norm2(x)), each branch times LayerScale's gamma when present. */
function blockOnnx(g: OnnxGraph, x: string, block: Block, path: string, s: BlockShapes, constants: { invSqrt2: string; one: string; half: string }): string {
  const scaled = (branch: string, layer: typeof block.ls1, name: string): string => {
    if (layer instanceof Identity) return branch;
    if (!(layer instanceof LayerScale)) throw new Error(`ONNX export: ${path}.${name} is a ${layer.constructor.name}, not LayerScale`);
    return g.node('Mul', [branch, g.weight(`${path}.${name}.gamma`, layer.gamma)], {}, `${path}.${name}`);
  };
  // Attention: [B, T, 3D] -> [B, T, 3, heads, hd] -> [3, B, heads, T, hd]; softmax(q k^T / sqrt(hd)) v.
  const normed1 = layerNormOnnx(g, x, block.norm1, `${path}.norm1`);
  const qkv = g.node('Transpose', [g.node('Reshape', [linearOnnx(g, normed1, block.attn.qkv, `${path}.attn.qkv`), s.qkv], {}, `${path}.attn.qkv_heads`)],
    { perm: [2, 0, 3, 1, 4] }, `${path}.attn.qkv_split`);
  const [q, k, v] = ['q', 'k', 'v'].map((name, i) => g.node('Gather', [qkv, s.indices[i]], { axis: 0 }, `${path}.attn.${name}`));
  const kT = g.node('Transpose', [k], { perm: [0, 1, 3, 2] }, `${path}.attn.k_t`);
  const scores = g.node('Mul', [g.node('MatMul', [q, kT], {}, `${path}.attn.qk`), s.scale], {}, `${path}.attn.scores`);
  const weights = g.node('Softmax', [scores], { axis: -1 }, `${path}.attn.weights`);
  const context = g.node('Transpose', [g.node('MatMul', [weights, v], {}, `${path}.attn.context`)], { perm: [0, 2, 1, 3] }, `${path}.attn.context_t`);
  const merged = g.node('Reshape', [context, s.merged], {}, `${path}.attn.merged`);
  const attn = linearOnnx(g, merged, block.attn.proj, `${path}.attn.proj`);
  const h = g.node('Add', [x, scaled(attn, block.ls1, 'ls1')], {}, `${path}.residual1`);
  // MLP: fc1 -> GELU -> fc2.
  if (block.mlp.act.approximate !== 'none') throw new Error(`ONNX export: ${path}.mlp uses the tanh GELU; only the exact one is exported`);
  const normed2 = layerNormOnnx(g, h, block.norm2, `${path}.norm2`);
  const hidden = geluOnnx(g, linearOnnx(g, normed2, block.mlp.fc1, `${path}.mlp.fc1`), `${path}.mlp.act`, constants);
  const mlp = linearOnnx(g, hidden, block.mlp.fc2, `${path}.mlp.fc2`);
  return g.node('Add', [h, scaled(mlp, block.ls2, 'ls2')], {}, `${path}.out`);
}
