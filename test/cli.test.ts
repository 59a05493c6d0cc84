// The selfsup command: preview writes the PNG grid it describes; bad options are refused with the
// option named and exit code 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { readSafetensors } from '../src/io/index.js';
import { resolvePrecision } from '../src/tensor/index.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-cli-'));
const selfsup = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('selfsup preview', () => {
  test('SimCLR: rows of original + two views, 96-pixel cells with a 2-pixel frame', async () => {
    const out = join(dir, 'simclr.png');
    const run = selfsup('preview', '--data', mini, '--method', 'simclr', '--out', out, '--count', '5');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /5 images x \[original, view 1 \(32px\), view 2 \(32px\)\]/);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 3 * 100, 5 * 100, 3]);
    // The original column is the image itself: its centre pixel is not the white frame everywhere.
    const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    const centre = (row: number, col: number) => data[((row * 100 + 50) * 300 + col * 100 + 50) * 3];
    assert.ok([0, 1, 2, 3, 4].some((r) => centre(r, 0) !== 255));
  });
  test('MAE adds the masked column; DINO shows its local crops', () => {
    const mae = selfsup('preview', '--data', mini, '--method', 'mae', '--out', join(dir, 'mae.png'), '--count', '2');
    assert.equal(mae.status, 0, mae.stderr);
    assert.match(mae.stdout, /\[original, view 1 \(32px\), masked\]/);
    const dino = selfsup('preview', '--data', mini, '--method', 'dino', '--local-crops', '2', '--out', join(dir, 'dino.png'), '--count', '2');
    assert.match(dino.stdout, /view 3 \(16px\), view 4 \(16px\)\]/);
  });
  test('bad options: the option named, exit 2, nothing written', () => {
    const out = join(dir, 'never.png');
    const cases: [string[], RegExp][] = [
      [['--data', mini, '--method', 'simclr'], /--out is required/],
      [['--data', mini, '--method', 'nope', '--out', out], /--method must be one of simclr/],
      [['--data', mini, '--out', out, '--count', '0'], /--count must be an integer >= 1, got '0'/],
      [['--data', mini, '--out', out, '--colour', 'red'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const run = selfsup('preview', ...args);
      assert.equal(run.status, 2, args.join(' '));
      assert.match(run.stderr, message);
    }
    const missing = selfsup('preview', '--data', join(dir, 'absent'), '--out', out);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /absent: no such folder or file/);
    assert.ok(!existsSync(out));
  });
});

describe('selfsup pretrain, eval, embed', () => {
  const run = join(dir, 'run');
  test('a config is checked before any work: unknown keys, wrong types, impossible values, named', () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'method: simclr\ndata: nowhere\nout: x\nbatchSize: 0\nepochs: "ten"\ncolour: red\nsize: -32\nnproc: 2.5\n');
    const bad = selfsup('pretrain', '--config', config);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /batchSize: Too small: expected number to be >=2/);
    assert.match(bad.stderr, /epochs: Invalid input: expected number, received string/);
    assert.match(bad.stderr, /unknown key 'colour'/);
    assert.match(bad.stderr, /size: Too small: expected number to be >0/);
    assert.match(bad.stderr, /nproc: Invalid input: expected int, received number/);
    const split = selfsup('pretrain', '--method', 'simclr', '--data', mini, '--out', run, '--batch-size', '16', '--nproc', '3');
    assert.match(split.stderr, /batchSize: batchSize \(the whole batch\) must be a multiple of the processes \(nproc x nnodes\)/);
    const flags = selfsup('pretrain', '--method', 'simclr', '--data', mini, '--out', run, '--optimizer', 'adam');
    assert.equal(flags.status, 2);
    assert.match(flags.stderr, /optimizer: Invalid option: expected one of "sgd"\|"lars"\|"adamw"/);
    assert.match(selfsup('pretrain', '--method', 'simclr', '--data', mini, '--out', run, '--knn-train', mini).stderr, /knnTest: knnTrain and knnTest go together/);
    assert.ok(!existsSync(run), 'nothing written');
  });
  test('pretrain -> eval knn / linear (precomputed and augmented) / finetune --scratch -> embed, from the checkpoint alone', async () => {
    const config = join(dir, 'run.json');
    writeFileSync(config, JSON.stringify({ method: 'simclr', data: mini, out: run, epochs: 2, batchSize: 16, width: 0.25, hiddenDim: 64 }));
    const pre = selfsup('pretrain', '--config', config, '--knn-train', mini, '--knn-test', mini, '--knn-every', '1');
    assert.equal(pre.status, 0, pre.stderr);
    assert.match(pre.stdout, /pretrained simclr \(resnet18\) for 4 steps: loss [\d.]+ -> [\d.]+, kNN top-1 [\d.]+%/);
    const checkpoint = join(run, 'checkpoint.safetensors');
    const common = ['--checkpoint', checkpoint, '--train', mini, '--test', mini];
    const knn = selfsup('eval', 'knn', ...common, '--out', join(dir, 'knn.json'));
    assert.equal(knn.status, 0, knn.stderr);
    const knnReport = JSON.parse(readFileSync(join(dir, 'knn.json'), 'utf8')) as { top1: number; k: number; precision: string };
    assert.ok(knnReport.top1 > 0.1 && knnReport.k === 200);
    assert.equal(knnReport.precision, resolvePrecision('auto'));
    const exact = selfsup('eval', 'knn', ...common, '--precision', 'fp32', '--out', join(dir, 'knn-fp32.json'));
    assert.equal(exact.status, 0, exact.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'knn-fp32.json'), 'utf8')) as { precision: string }).precision, 'fp32');
    const linear = selfsup('eval', 'linear', ...common, '--epochs', '20', '--out', join(dir, 'linear.json'));
    assert.equal(linear.status, 0, linear.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'linear.json'), 'utf8')) as { top1: number; perClass: number[]; confusion: number[][] };
    assert.equal(report.perClass.length, 10);
    assert.equal(report.confusion.flat().reduce((a, b) => a + b, 0), 40);
    const low = selfsup('eval', 'linear', ...common, '--labels', '0.25', '--epochs', '5', '--out', join(run, 'low.json'));
    assert.equal(low.status, 0, low.stderr);
    assert.match(low.stderr, /linear: 25% of the labels: 10 of 40 training images/);
    assert.equal((JSON.parse(readFileSync(join(run, 'low.json'), 'utf8')) as { trainImages: number }).trainImages, 10);
    const badLabels = selfsup('eval', 'linear', ...common, '--labels', '2');
    assert.equal(badLabels.status, 2);
    assert.match(badLabels.stderr, /--labels must be a fraction in \(0, 1\]/);
    const augmented = selfsup('eval', 'linear', ...common, '--augment', '--epochs', '2', '--batch-size', '20');
    assert.equal(augmented.status, 0, augmented.stderr);
    assert.match(augmented.stderr, /linear epoch 2: loss/);
    const scratch = selfsup('eval', 'finetune', ...common, '--scratch', '--epochs', '1', '--batch-size', '20');
    assert.equal(scratch.status, 0, scratch.stderr);
    assert.match(scratch.stdout, /finetune \(from scratch\): top-1/);
    const notFrozen = selfsup('eval', 'finetune', ...common, '--precision', 'bf16');
    assert.equal(notFrozen.status, 2);
    assert.match(notFrozen.stderr, /--precision is for frozen features \(knn, linear without --augment\), not finetune/);
    const vitOnly = selfsup('eval', 'finetune', ...common, '--layer-decay', '0.75');
    assert.equal(vitOnly.status, 2);
    assert.match(vitOnly.stderr, /--layer-decay is for ViT backbones; this run's is resnet18/);
    const embed = selfsup('embed', '--checkpoint', checkpoint, '--data', mini, '--out', join(dir, 'emb'));
    assert.equal(embed.status, 0, embed.stderr);
    const csv = readFileSync(join(dir, 'emb.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 41);
    assert.match(csv[1], /^0,\/.*airplane\/0000\.jpg,airplane$/);   // RFC 4180: quoted only when a field needs it
    const shape = spawnSync('/usr/bin/python3', ['-c', `import numpy; print(numpy.load(${JSON.stringify(join(dir, 'emb.npy'))}).shape)`], { encoding: 'utf8' });
    assert.equal(shape.stdout.trim(), '(40, 128)');
    // robustness: the supervised-from-scratch baseline, then the linear probe against it
    const base = join(dir, 'robust-scratch.json');
    const baseline = selfsup('eval', 'robustness', ...common, '--finetune', '--scratch', '--epochs', '1', '--batch-size', '20', '--out', base);
    assert.equal(baseline.status, 0, baseline.stderr);
    assert.match(baseline.stdout, /robustness \(fine-tuned from scratch\): clean [\d.]+%, mean over corruptions and severities [\d.]+%/);
    const picture = join(dir, 'corruptions.png');
    const robust = selfsup('eval', 'robustness', ...common, '--epochs', '5', '--baseline', base, '--picture', picture, '--out', join(run, 'robust.json'));
    assert.equal(robust.status, 0, robust.stderr);
    assert.match(robust.stdout, /mCE [\d.]+ of the baseline/);
    const r = JSON.parse(readFileSync(join(run, 'robust.json'), 'utf8')) as { accuracy: Record<string, number[]>; corruptionError: Record<string, number>; mCE: number; clean: number; cleanTop1: number };
    // the clean pass is the probe's own test accuracy (batch norm in evaluation form), up to one image for the folded head's rounding
    assert.ok(Math.abs(r.clean - r.cleanTop1) <= 1 / 40 + 1e-9, `clean ${r.clean} vs the probe's ${r.cleanTop1}`);
    assert.equal(Object.keys(r.accuracy).length, 8);
    assert.ok(Object.values(r.accuracy).every((a) => a.length === 5) && Number.isFinite(r.mCE) && Object.keys(r.corruptionError).length === 8);
    const meta = await sharp(picture).metadata();
    assert.deepEqual([meta.width, meta.height], [9 * 68, 6 * 68]);
    const notReport = selfsup('eval', 'robustness', ...common, '--baseline', join(dir, 'knn.json'));
    assert.equal(notReport.status, 1);
    assert.match(notReport.stderr, /knn\.json: not a robustness report/);
    const segPicture = join(dir, 'segmentation.png');
    const seg = selfsup('eval', 'segmentation', '--checkpoint', checkpoint, '--data', 'synthetic', '--count', '50', '--epochs', '2', '--picture', segPicture, '--out', join(run, 'seg.json'));
    assert.equal(seg.status, 0, seg.stderr);
    assert.match(seg.stdout, /segmentation probe: mIoU [\d.]+%, pixel accuracy [\d.]+% \(50 training, 10 test images\)/);
    assert.match(seg.stdout, /triangle +IoU/);
    const segReport = JSON.parse(readFileSync(join(run, 'seg.json'), 'utf8')) as { mIoU: number; iou: (number | null)[] };
    assert.ok(segReport.mIoU > 0 && segReport.iou.length === 4);
    assert.deepEqual([(await sharp(segPicture).metadata()).width, (await sharp(segPicture).metadata()).height], [3 * 68, 6 * 68]);
    // continued pretraining: the same method keeps everything; with a learning rate of ~0 the weights stay the init's
    const continued = selfsup('pretrain', '--method', 'simclr', '--init', checkpoint, '--data', mini, '--epochs', '1', '--batch-size', '16', '--hidden-dim', '64', '--lr', '1e-12', '--out', join(dir, 'continued'));
    assert.equal(continued.status, 0, continued.stderr);
    assert.match(continued.stderr, /initialised from .*checkpoint\.safetensors \(a simclr run\): backbone, heads and method state/);
    const weights = (file: string) => readSafetensors(file).tensors;
    const [before, after] = [weights(checkpoint), weights(join(dir, 'continued', 'checkpoint.safetensors'))];
    for (const key of ['model.backbone.conv1.weight', 'model.projection.layers.3.weight']) {
      assert.ok(before.get(key)!.sub(after.get(key)!).abs().max().item() < 1e-6, `${key} kept`);
    }
    const other = selfsup('pretrain', '--method', 'byol', '--init', checkpoint, '--data', mini, '--epochs', '1', '--batch-size', '16', '--hidden-dim', '64', '--out', join(dir, 'continued-byol'));
    assert.equal(other.status, 0, other.stderr);
    assert.match(other.stderr, /the backbone only \(another method\)/);
    const mismatch = selfsup('pretrain', '--method', 'mae', '--backbone', 'vit_tiny', '--init', checkpoint, '--data', mini, '--out', join(dir, 'never'));
    assert.equal(mismatch.status, 2);
    assert.match(mismatch.stderr, /--init .*: a resnet18 run, but this run's backbone is vit_tiny/);
    // compare: the runs side by side, their reports found in the run folders; a half-written report is skipped
    writeFileSync(join(run, 'broken.json'), '{"kind": "knn", "top1"');
    const plot = join(dir, 'compare.png');
    const compared = selfsup('compare', run, join(dir, 'continued'), '--out', join(dir, 'compare.md'), '--plot', plot);
    assert.equal(compared.status, 0, compared.stderr);
    const table = readFileSync(join(dir, 'compare.md'), 'utf8');
    assert.match(table, /^\| method \| simclr \| simclr \|$/m);
    assert.match(table, /^\| linear top-1 \(25% labels\) on cifar10-mini \| [\d.]+% \|  \|$/m);
    assert.match(table, /^\| segmentation mIoU \| [\d.]+% \|  \|$/m);
    assert.match(table, /^\| mCE \(linear probe\) on cifar10-mini \| [\d.]+ \|  \|$/m);
    assert.ok((await sharp(plot).metadata()).width! > 200);
    const noRuns = selfsup('compare', '--out', join(dir, 'x.md'));
    assert.equal(noRuns.status, 2);
    assert.match(noRuns.stderr, /expected run folders to compare/);
    const missing = selfsup('eval', 'knn', '--checkpoint', join(dir, 'absent.safetensors'), '--train', mini, '--test', mini);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /absent\.safetensors/);
  });
});

describe('masked image modelling from the command line', () => {
  test('tokenizer train (k-means and VQ-VAE) -> pretrain beit; pretrain mae -> preview reconstructions -> ViT fine-tuning', async () => {
    const kmeans = join(dir, 'tok-kmeans.safetensors');
    const km = selfsup('tokenizer', 'train', '--data', mini, '--kind', 'kmeans', '--codebook', '16', '--samples', '2000', '--out', kmeans);
    assert.equal(km.status, 0, km.stderr);
    assert.match(km.stdout, /wrote .*tok-kmeans\.safetensors \(kmeans, 16 codes, 4x4 patches\).*perplexity [\d.]+, codes used [\d.]+%/);
    const vq = selfsup('tokenizer', 'train', '--data', mini, '--codebook', '32', '--epochs', '2', '--batch-size', '16', '--out', join(dir, 'tok-vq.safetensors'));
    assert.equal(vq.status, 0, vq.stderr);
    assert.ok(existsSync(join(dir, 'tok-vq.preview.png')) && existsSync(join(dir, 'tok-vq.safetensors.run', 'metrics.jsonl')));
    const metrics = readFileSync(join(dir, 'tok-vq.safetensors.run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.ok(metrics.every((m) => m['tokenizer/perplexity'] >= 1), 'codebook perplexity on every step');

    const refused: [string[], RegExp][] = [
      [['--method', 'mae'], /backbone: mae, beit, ibot, dinov2, ijepa need a ViT backbone/],
      [['--method', 'beit', '--backbone', 'vit_tiny'], /tokenizer: beit needs a visual tokenizer/],
    ];
    for (const [args, message] of refused) {
      const bad = selfsup('pretrain', '--data', mini, '--out', join(dir, 'never'), ...args);
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, message);
    }
    const beit = selfsup('pretrain', '--method', 'beit', '--backbone', 'vit_tiny', '--tokenizer', kmeans, '--data', mini, '--epochs', '1', '--batch-size', '16', '--out', join(dir, 'beit'));
    assert.equal(beit.status, 0, beit.stderr);
    assert.match(readFileSync(join(dir, 'beit', 'metrics.jsonl'), 'utf8'), /"beit\/masked_accuracy":/);

    const mae = join(dir, 'mae');
    const pre = selfsup('pretrain', '--method', 'mae', '--backbone', 'vit_tiny', '--data', mini, '--epochs', '1', '--batch-size', '16', '--out', mae);
    assert.equal(pre.status, 0, pre.stderr);
    const checkpoint = join(mae, 'checkpoint.safetensors');
    const png = join(dir, 'reconstructions.png');
    const shown = selfsup('preview', '--checkpoint', checkpoint, '--data', mini, '--out', png, '--count', '3');
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /3 images x \[original, masked 75%, reconstruction, reconstruction \+ visible\]/);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height], [4 * 100, 3 * 100]);
    const tuned = selfsup('eval', 'finetune', '--checkpoint', checkpoint, '--train', mini, '--test', mini, '--epochs', '1', '--batch-size', '20');
    assert.equal(tuned.status, 0, tuned.stderr);
    assert.match(tuned.stdout, /finetune: top-1/);
    const wrong = selfsup('eval', 'finetune', '--checkpoint', checkpoint, '--train', mini, '--test', mini, '--optimizer', 'adam');
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /--optimizer must be one of sgd, adamw, got 'adam'/);
  });
});

describe('self-distillation, attention maps and retrieval from the command line', () => {
  test('pretrain dino (ViT and ResNet) and ibot -> attention maps -> eval retrieval with its picture and report', async () => {
    const vit = join(dir, 'dino-vit');
    const dino = selfsup('pretrain', '--method', 'dino', '--backbone', 'vit_tiny', '--data', mini, '--epochs', '2', '--batch-size', '16', '--local-crops', '2', '--prototypes', '256', '--out', vit);
    assert.equal(dino.status, 0, dino.stderr);
    const metrics = readFileSync(join(vit, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.ok(metrics.every((m) => m['dino/teacher_entropy'] > 0 && m['dino/teacher_entropy'] <= 1 + 1e-9), 'teacher entropy on every step');
    // AdamW's weight decay rises 0.04 -> 0.4 on a cosine over the run's 4 steps
    assert.deepEqual(metrics.map((m) => Number(m.weight_decay.toFixed(4))), [0.04, 0.0927, 0.22, 0.3473]);
    const resnet = selfsup('pretrain', '--method', 'dino', '--data', mini, '--epochs', '1', '--batch-size', '16', '--local-crops', '2', '--prototypes', '256', '--out', join(dir, 'dino-resnet'));
    assert.equal(resnet.status, 0, resnet.stderr);
    const refused = selfsup('pretrain', '--method', 'ibot', '--data', mini, '--out', join(dir, 'never'));
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /backbone: mae, beit, ibot, dinov2, ijepa need a ViT backbone/);
    const ibot = selfsup('pretrain', '--method', 'ibot', '--backbone', 'vit_tiny', '--data', mini, '--epochs', '1', '--batch-size', '16', '--local-crops', '2', '--prototypes', '256', '--out', join(dir, 'ibot'));
    assert.equal(ibot.status, 0, ibot.stderr);
    assert.match(readFileSync(join(dir, 'ibot', 'metrics.jsonl'), 'utf8'), /"ibot\/patch_loss":/);

    const checkpoint = join(vit, 'checkpoint.safetensors');
    const attn = join(dir, 'attention.png');
    const drawn = selfsup('attention', '--checkpoint', checkpoint, '--images', mini, '--out', attn, '--count', '3');
    assert.equal(drawn.status, 0, drawn.stderr);
    assert.match(drawn.stdout, /3 images x \[image, mean of 3 heads, head 1, head 2, head 3, top 60% of the attention\]/);
    const meta = await sharp(attn).metadata();
    assert.deepEqual([meta.width, meta.height], [6 * 100, 3 * 100]);
    const notViT = selfsup('attention', '--checkpoint', join(dir, 'dino-resnet', 'checkpoint.safetensors'), '--images', mini, '--out', join(dir, 'never.png'));
    assert.equal(notViT.status, 1);
    assert.match(notViT.stderr, /attention maps need a ViT run; this run's backbone is resnet18/);

    const picture = join(dir, 'retrieval.png');
    const report = join(dir, 'retrieval.json');
    const found = selfsup('eval', 'retrieval', '--checkpoint', checkpoint, '--query', mini, '--k', '1,5', '--show', '4', '--picture', picture, '--out', report);
    assert.equal(found.status, 0, found.stderr);
    assert.match(found.stdout, /retrieval: Recall@1 [\d.]+%, Recall@5 [\d.]+%, mAP [\d.]+%/);
    const r = JSON.parse(readFileSync(report, 'utf8')) as { recall: Record<string, number>; mAP: number; leaveOneOut: boolean; queries: number };
    assert.ok(r.leaveOneOut && r.queries === 40 && r.recall['5'] >= r.recall['1'] && r.mAP > 0 && r.mAP <= 1);
    const shown = await sharp(picture).metadata();
    assert.deepEqual([shown.width, shown.height], [6 * 68, 4 * 68]);
    const badK = selfsup('eval', 'retrieval', '--checkpoint', checkpoint, '--query', mini, '--k', '0,x');
    assert.equal(badK.status, 1);
    assert.match(badK.stderr, /--k 0,x: expected positive integers/);
  });
});


describe('the selfsup command starts node with tcmalloc (bin/node-with-tcmalloc)', () => {
  const bin = fileURLToPath(new URL('../../bin/selfsup', import.meta.url));
  const info = (env: Record<string, string>) => {
    const run = spawnSync(bin, ['info', '--json'], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: '', ...env } });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as { malloc: string; libtorch: string };
  };
  test('preloaded by default (npm run setup installs libtcmalloc-minimal4), glibc when asked, never twice', () => {
    assert.equal(info({}).malloc, 'tcmalloc');
    assert.equal(info({ SELFSUP_MALLOC: 'glibc' }).malloc, 'glibc');
    // tcmalloc already preloaded is not added again.
    const preloadOf = (preload: string) => spawnSync(join(dirname(bin), 'node-with-tcmalloc'), ['-e', 'console.log(process.env.LD_PRELOAD)'],
      { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: preload } }).stdout.trim();
    const tcmalloc = preloadOf('');
    assert.match(tcmalloc, /libtcmalloc_minimal\.so\.4$/);
    assert.equal(preloadOf(tcmalloc), tcmalloc);
    // The plain node entry point (a program importing selfsup) runs with the process's own malloc.
    const plain = spawnSync(process.execPath, [cli, 'info', '--json'], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: '' } });
    assert.equal(JSON.parse(plain.stdout).malloc, 'glibc');
  });

  test('emptyCache gives freed memory back to the system under tcmalloc too (it keeps freed spans otherwise)', () => {
    const script = `const t = await import(${JSON.stringify(fileURLToPath(new URL('../src/tensor/index.js', import.meta.url)))});
      const rss = () => process.memoryUsage().rss / 2 ** 20;
      const a = t.ones([64, 1024, 1024]), b = t.ones([64, 1024, 1024]);   // 2 x 256 MB
      a.dispose(); b.dispose();
      const peak = rss();
      t.emptyCache();
      console.log(JSON.stringify({ malloc: t.processMalloc(), peak, after: rss() }));`;
    const run = spawnSync(join(dirname(bin), 'node-with-tcmalloc'), ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: '' } });
    assert.equal(run.status, 0, run.stderr);
    const { malloc, peak, after } = JSON.parse(run.stdout) as { malloc: string; peak: number; after: number };
    assert.equal(malloc, 'tcmalloc');
    assert.ok(peak - after > 400, `RSS ${peak.toFixed(0)} MB before emptyCache, ${after.toFixed(0)} MB after`);
  });
});
