/**
 * Images with object boxes for the detection transfer: a deterministic synthetic set (discs,
 * squares and triangles with their exact boxes over textured backgrounds, no two boxes overlapping)
 * and readers for COCO JSON (`instances_*.json` + an image folder) and Pascal VOC
 * (`Annotations/*.xml` + `JPEGImages/`). Images are resized to size x size and boxes scaled with
 * them; boxes are [x1, y1, x2, y2] in pixels of the resized image (COCO's continuous coordinates).
 *
 * ```ts
 * const set = syntheticDetection(500, { size: 64, seed: 0 });
 * set.boxes[0];   // [{ box: [12.5, 3, 40.5, 31], label: 0 }, ...]
 * const coco = await readCocoDetection('annotations/instances_val.json', 'val2017/', { size: 128 });
 * ```
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Generator, arange, tensor, tidy, where } from '../tensor/index.js';
import { uniformStream } from '../transforms/index.js';
import { ImageArray } from './imageArray.js';
import { SHAPE_CLASSES, shapeColour, shapeInside, texturedBackground } from './syntheticShapes.js';

export type Box = [number, number, number, number];
export interface LabelledBox { box: Box; label: number }

export interface DetectionSet {
  images: ImageArray;
  /** the boxes of each image */
  boxes: LabelledBox[][];
  classes: string[];
}

const overlaps = (a: Box, b: Box) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

export function syntheticDetection(count: number, o: { size?: number; seed?: number; maxObjects?: number } = {}): DetectionSet {
  const size = o.size ?? 64;
  const generator = new Generator(o.seed ?? 0);
  const uniform = uniformStream(generator);
  const pixels = new Uint8Array(count * 3 * size * size);
  const boxes: LabelledBox[][] = [];
  tidy(() => {
    const ys = arange(0, size).float().add(0.5).view(size, 1).expand(size, size); // pixel centres
    const xs = arange(0, size).float().add(0.5).view(1, size).expand(size, size);
    for (let n = 0; n < count; n++) {
      const objects: LabelledBox[] = [];
      tidy(() => {
        let image = texturedBackground(size, generator);
        const wanted = 1 + Math.floor(uniform() * (o.maxObjects ?? 3));
        for (let attempt = 0; attempt < 20 && objects.length < wanted; attempt++) {
          const label = Math.floor(uniform() * SHAPE_CLASSES.length);
          const r = size * (0.08 + 0.12 * uniform());
          const [cy, cx] = [r + uniform() * (size - 2 * r), r + uniform() * (size - 2 * r)];
          const brightness = 0.6 + 0.4 * uniform();
          const box: Box = [cx - r, cy - r, cx + r, cy + r];
          if (objects.some((other) => overlaps(other.box, box))) continue;
          image = where(shapeInside(ys, xs, label, cy, cx, r).unsqueeze(0), shapeColour(label, brightness).expand(3, size, size), image);
          objects.push({ box, label });
        }
        pixels.set(image.mul(255).round().to('uint8').contiguous().toBytes(), n * 3 * size * size);
      });
      boxes.push(objects);
    }
  });
  return { images: new ImageArray(pixels, 3, size, size, null, [], null), boxes, classes: [...SHAPE_CLASSES] };
}

/** One image file read, resized to size x size: its CHW bytes and the scale factors applied to x and y. */
async function readResized(path: string, size: number): Promise<{ chw: Buffer; sx: number; sy: number }> {
  let rgb: Buffer;
  let width: number;
  let height: number;
  try {
    const file = readFileSync(path); // read once: its header for the original size, then decoded
    const meta = await sharp(file).metadata();
    [width, height] = [meta.width!, meta.height!];
    rgb = await sharp(file).removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer();
  } catch (error) {
    throw new Error(`${path}: not a readable image (${(error as Error).message})`);
  }
  const chw = tidy(() => tensor(rgb, { shape: [size, size, 3], dtype: 'uint8' }).permute(2, 0, 1).contiguous().toBytes());
  return { chw, sx: size / width, sy: size / height };
}

async function assemble(entries: { path: string; boxes: LabelledBox[] }[], classes: string[], size: number): Promise<DetectionSet> {
  const pixels = new Uint8Array(entries.length * 3 * size * size);
  const boxes: LabelledBox[][] = [];
  for (const [i, entry] of entries.entries()) {
    const { chw, sx, sy } = await readResized(entry.path, size);
    pixels.set(chw, i * 3 * size * size);
    boxes.push(entry.boxes.map(({ box, label }) => ({ box: [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy], label })));
  }
  return { images: new ImageArray(pixels, 3, size, size, null, [], entries.map((e) => e.path)), boxes, classes };
}

interface CocoFile {
  images: { id: number; file_name: string }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number]; iscrowd?: number }[];
  categories: { id: number; name: string }[];
}

/** COCO object detection JSON: bbox [x, y, w, h]; crowd boxes are left out; categories in id order become labels 0, 1, ... */
export async function readCocoDetection(annotations: string, imageDir: string, o: { size: number }): Promise<DetectionSet> {
  let coco: CocoFile;
  try {
    coco = JSON.parse(readFileSync(annotations, 'utf8')) as CocoFile;
  } catch (error) {
    throw new Error(`${annotations}: not a readable COCO JSON file (${(error as Error).message})`);
  }
  if (!Array.isArray(coco?.images) || !Array.isArray(coco.annotations) || !Array.isArray(coco.categories)) {
    throw new Error(`${annotations}: expected COCO's "images", "annotations" and "categories" arrays`);
  }
  const categories = [...coco.categories].sort((a, b) => a.id - b.id);
  const labelOf = new Map(categories.map((c, i) => [c.id, i]));
  const byImage = new Map<number, LabelledBox[]>(coco.images.map((im) => [im.id, []]));
  for (const [k, a] of coco.annotations.entries()) {
    const label = labelOf.get(a.category_id);
    const list = byImage.get(a.image_id);
    if (label === undefined || list === undefined || !Array.isArray(a.bbox) || a.bbox.length !== 4) {
      throw new Error(`${annotations}: annotation ${k} has an unknown image_id / category_id or a bbox that is not [x, y, w, h]`);
    }
    if (a.iscrowd) continue;
    const [x, y, w, h] = a.bbox;
    list.push({ box: [x, y, x + w, y + h], label });
  }
  return assemble(coco.images.map((im) => ({ path: join(imageDir, im.file_name), boxes: byImage.get(im.id)! })), categories.map((c) => c.name), o.size);
}

/** The text of the first <tag> in `xml`, or undefined. */
const tagText = (xml: string, tag: string): string | undefined => new RegExp(`<${tag}>\\s*([^<]*?)\\s*</${tag}>`).exec(xml)?.[1];

/**
 * Pascal VOC: `dir/Annotations/<name>.xml` (objects with <name> and <bndbox> xmin/ymin/xmax/ymax, 1-based
 * pixels) and `dir/JPEGImages/<filename>`. "difficult" objects are left out, as VOC's evaluation does;
 * classes are those given, else the names found, sorted.
 */
export async function readVocDetection(dir: string, o: { size: number; classes?: string[] }): Promise<DetectionSet> {
  const annotationDir = join(dir, 'Annotations');
  let files: string[];
  try {
    files = readdirSync(annotationDir).filter((f) => f.endsWith('.xml')).sort();
  } catch (error) {
    throw new Error(`${dir}: expected a Pascal VOC folder with Annotations/ and JPEGImages/ (${(error as Error).message})`);
  }
  if (files.length === 0) throw new Error(`${annotationDir}: no .xml annotations`);
  const parsed = files.map((file) => {
    const xml = readFileSync(join(annotationDir, file), 'utf8');
    const objects = [...xml.matchAll(/<object>([\s\S]*?)<\/object>/g)].map((m) => m[1]).filter((obj) => tagText(obj, 'difficult') !== '1');
    const boxes = objects.map((obj) => {
      const coords = ['xmin', 'ymin', 'xmax', 'ymax'].map((t) => Number(tagText(obj, t)));
      const name = tagText(obj, 'name');
      if (name === undefined || coords.some((c) => !Number.isFinite(c))) throw new Error(`${join(annotationDir, file)}: an <object> without a <name> or a numeric <bndbox>`);
      return { name, box: [coords[0] - 1, coords[1] - 1, coords[2], coords[3]] as Box };
    });
    return { path: join(dir, 'JPEGImages', tagText(xml, 'filename') ?? file.replace(/\.xml$/, '.jpg')), boxes };
  });
  const classes = o.classes ?? [...new Set(parsed.flatMap((p) => p.boxes.map((b) => b.name)))].sort();
  const entries = parsed.map((p) => ({
    path: p.path,
    boxes: p.boxes.map((b) => {
      const label = classes.indexOf(b.name);
      if (label < 0) throw new Error(`${p.path}: class '${b.name}' is not one of ${classes.join(', ')}`);
      return { box: b.box, label };
    }),
  }));
  return assemble(entries, classes, o.size);
}
