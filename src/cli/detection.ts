/**
 * `selfsup eval detection --checkpoint <run> --data synthetic|coco:<json>:<images>|voc:<dir>`: a
 * CenterNet head on the run's backbone (frozen, or --finetune), trained on the training set and
 * scored on the test set with COCO's mAP@0.5 and mAP@[.5:.95]; `--picture` draws test images with
 * true (white, dashed) and predicted boxes.
 */
import { type DetectionSet, readCocoDetection, readVocDetection, syntheticDetection } from '../data/index.js';
import { trainDetector } from '../eval/index.js';
import { writeBoxesPicture, writeTextFile } from '../io/index.js';
import { methodViews } from '../methods/index.js';
import { UsageError, applyThreadsOption, integerOption, numberOption, parseOptions, requireString } from './options.js';
import { loadRunBackbone } from '../runs/index.js';

export const DETECTION_USAGE = `usage: selfsup eval detection --checkpoint <file> --data <spec> [--test <spec>] [options]

  --data synthetic              discs, squares and triangles with their boxes (--count training images, a third as many test)
  --data coco:<json>:<images>   COCO detection JSON and its image folder; --test the same (required)
  --data voc:<dir>              a Pascal VOC folder (Annotations/, JPEGImages/); --test the same (required)
  --size <px>        the side images are resized to (default: the run's, at least 64 for synthetic data)
  --finetune         train the backbone too, at a tenth of the head's rate (default: frozen)
  --epochs <n> (30)  --lr <x> (1e-3)  --batch-size <n> (32)  --count <n> (1000)
  --picture <file>   8 test images with true (white, dashed) and predicted boxes  --out <file.json>  --threads <n>  --seed <n>`;

async function openDetection(spec: string, size: number, classes?: string[]): Promise<DetectionSet> {
  if (spec.startsWith('coco:')) {
    const [json, images] = spec.slice(5).split(':');
    if (!json || !images) throw new UsageError(`${spec}: expected coco:<annotations.json>:<image folder>`);
    return readCocoDetection(json, images, { size });
  }
  if (spec.startsWith('voc:')) return readVocDetection(spec.slice(4), { size, classes });
  throw new UsageError(`${spec}: expected synthetic, coco:<annotations.json>:<image folder> or voc:<dir>`);
}

export async function detectionCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, {
    checkpoint: { type: 'string' }, data: { type: 'string' }, test: { type: 'string' }, size: { type: 'string' }, finetune: { type: 'boolean' },
    epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' }, count: { type: 'string' },
    picture: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' },
  });
  const [checkpoint, data] = [requireString(v, 'checkpoint'), requireString(v, 'data')];
  applyThreadsOption(v);
  const seed = integerOption(v, 'seed', 0, 0);
  const { backbone, run } = loadRunBackbone(checkpoint);
  try {
    const size = integerOption(v, 'size', data === 'synthetic' ? Math.max(64, run.size) : run.size);
    let train: DetectionSet;
    let test: DetectionSet;
    if (data === 'synthetic') {
      const count = integerOption(v, 'count', 1000);
      train = syntheticDetection(count, { size, seed: 2 * seed });
      test = syntheticDetection(Math.max(1, Math.round(count / 3)), { size, seed: 2 * seed + 1 });
    } else {
      train = await openDetection(data, size);
      test = await openDetection(requireString(v, 'test'), size, train.classes);
    }
    const view = { ...methodViews('eval', { size, normalize: run.normalize }).views[0], crop: 'resize' as const };
    const result = await trainDetector(backbone, train, test, {
      view, numClasses: Math.max(train.classes.length, test.classes.length), epochs: integerOption(v, 'epochs', 30), lr: numberOption(v, 'lr', 1e-3),
      batchSize: integerOption(v, 'batch-size', 32), finetune: v.finetune === true, seed,
      onEpoch: (epoch, loss) => process.stderr.write(`detection epoch ${epoch + 1}: loss ${loss.toFixed(4)}\n`),
    });
    result.head.dispose();
    const mode = v.finetune === true ? 'fine-tuned' : 'frozen';
    console.log(`detection (CenterNet head, ${mode} backbone, stride ${result.stride}): mAP@0.5 ${(100 * result.mAP50).toFixed(2)}%, mAP@[.5:.95] ${(100 * result.mAP).toFixed(2)}% (${train.images.length} training, ${test.images.length} test images)`);
    console.log(result.ap50PerClass.map((ap, c) => `  ${(train.classes[c] ?? `class ${c}`).padEnd(12)} AP@0.5 ${Number.isNaN(ap) ? 'absent' : `${(100 * ap).toFixed(1)}%`}`).join('\n'));
    if (typeof v.picture === 'string') {
      const shown = test.images.spread(8);
      const images = test.images.batch(shown);
      await writeBoxesPicture(v.picture, images, shown.map((i) => test.boxes[i]), shown.map((i) => result.predictions[i]), train.classes);
      images.dispose();
      console.log(`wrote ${v.picture}: ${shown.length} test images, true boxes dashed white, predictions with score >= 0.3 by class colour`);
    }
    if (typeof v.out === 'string') {
      const perClass = (values: number[]) => values.map((x) => (Number.isNaN(x) ? null : x));
      writeTextFile(v.out, JSON.stringify({
        kind: 'detection', checkpoint, data, test: v.test ?? data, backbone: mode, classes: train.classes, size, stride: result.stride,
        mAP50: result.mAP50, mAP75: result.mAP75, mAP: result.mAP, ap50PerClass: perClass(result.ap50PerClass), apPerClass: perClass(result.apPerClass), losses: result.losses,
      }, null, 2) + '\n');
    }
  } finally {
    backbone.dispose();
  }
}
