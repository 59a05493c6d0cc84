// Embeddings from a selfsup export without selfsup: onnxruntime-node runs the ONNX model of a
// Hugging Face-style folder (`selfsup export --format hf --out encoder/`), and sharp prepares the
// images as preprocessor_config.json says (resize the shorter side, crop the centre, rescale to
// [0, 1], normalise with the training statistics). In a browser, onnxruntime-web's
// InferenceSession and Tensor are the same API.
//
//   npm install onnxruntime-node sharp
//   node examples/onnx-embeddings.mjs encoder/ cat.jpg dog.png     # prints {"paths": [...], "embeddings": [[...], ...]}
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

const [folder, ...paths] = process.argv.slice(2);
if (!folder || paths.length === 0) {
  console.error('usage: node examples/onnx-embeddings.mjs <exported folder> <image> [image ...]');
  process.exit(2);
}
const pre = JSON.parse(readFileSync(join(folder, 'preprocessor_config.json'), 'utf8'));
const { height, width } = pre.crop_size;
const resized = pre.size.shortest_edge;

/** One image as float32 CHW, normalised: [3 * height * width]. */
async function pixels(path) {
  const { width: w0, height: h0 } = await sharp(path).metadata();
  const scale = resized / Math.min(w0, h0);
  const [w1, h1] = [Math.round(w0 * scale), Math.round(h0 * scale)];
  const { data } = await sharp(path).removeAlpha().toColourspace('srgb')
    .resize(w1, h1, { fit: 'fill', kernel: 'linear' })
    .extract({ left: Math.round((w1 - width) / 2), top: Math.round((h1 - height) / 2), width, height })
    .raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < height * width; i++) out[c * height * width + i] = (data[i * 3 + c] * pre.rescale_factor - pre.image_mean[c]) / pre.image_std[c];
  }
  return out;
}

const session = await ort.InferenceSession.create(join(folder, 'onnx', 'model.onnx'));
const batch = new Float32Array(paths.length * 3 * height * width);
for (const [i, path] of paths.entries()) batch.set(await pixels(path), i * 3 * height * width);
const { pooler_output: embeddings } = await session.run({ pixel_values: new ort.Tensor('float32', batch, [paths.length, 3, height, width]) });
const dim = embeddings.dims[1];
const rows = paths.map((_, i) => Array.from(embeddings.data.subarray(i * dim, (i + 1) * dim)));
console.log(JSON.stringify({ paths, embeddings: rows }));
