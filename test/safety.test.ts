// Nothing lost, nothing silently wrong: evaluation classes matched by name, run folders owned by one
// process (locks, no replacement without --overwrite, no other command writing a run's files),
// resume refused when the run differs, runs that never trained fail, non-finite weights refused,
// special files in data folders, thread/worker bounds, RFC 4180 CSV, the dashboard's Host check and
// its reads, and outputs refused at the filesystem root and the home folder.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { startDashboard } from '../src/dashboard/server.js';
import { ImageArray, ImageFolder, alignClasses } from '../src/data/index.js';
import { claimRunFolder, csvLines, parseCsv, readSafetensors, refuseRunFile, writeSafetensors } from '../src/io/index.js';
import { zeros } from '../src/tensor/index.js';
import { identityChanges } from '../src/train/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const mini = join(root, 'test/fixtures/cifar10-mini');
const cli = join(root, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'selfsup-safety-'));
const selfsup = (args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, ...o });
/** A tiny SimCLR run on the 40 mini images: 2 steps per epoch. */
const tiny = ['--method', 'simclr', '--data', mini, '--batch-size', '16', '--width', '0.25', '--hidden-dim', '32', '--projection-dim', '16', '--workers', '0'];
const bytesOf = (path: string) => readFileSync(path).toString('base64');

/** The run every test below starts from: 1 epoch (2 steps), made once. */
const run = join(dir, 'run');
const checkpoint = join(run, 'checkpoint.safetensors');
before(() => {
  const made = selfsup(['pretrain', ...tiny, '--epochs', '1', '--out', run]);
  assert.equal(made.status, 0, made.stderr);
});

describe('evaluation matches classes by name', () => {
  test('alignClasses renumbers by name; an unknown class is dropped (classification) or kept apart (retrieval)', () => {
    const images = (classes: string[], labels: number[]) => new ImageArray(new Uint8Array(labels.length * 3), 3, 1, 1, Int32Array.from(labels), classes);
    const train = images(['airplane', 'cat', 'dog'], [0, 1, 2]);
    const test = images(['cat', 'dog', 'wolf'], [0, 1, 2, 2, 0]);
    const dropped = alignClasses(train, test, { unknown: 'drop' });
    assert.deepEqual([...dropped.images.labels!], [1, 2, 1]);
    assert.deepEqual(dropped.images.classes, ['airplane', 'cat', 'dog']);
    assert.deepEqual(dropped.unmatched, { wolf: 2 });
    const kept = alignClasses(train, test, { unknown: 'keep' });
    assert.deepEqual([...kept.images.labels!], [1, 2, 3, 3, 1]);
    assert.deepEqual(kept.images.classes, ['airplane', 'cat', 'dog', 'wolf']);
    assert.throws(() => alignClasses(train, images(['wolf'], [0]), { unknown: 'drop' }), /none of the classes \(wolf\) are among the 3 reference classes/);
  });

  test('eval linear and knn on a test folder with some of the classes: scored and named as the training classes', () => {
    const partial = join(dir, 'cat-dog');
    for (const c of ['cat', 'dog']) cpSync(join(mini, c), join(partial, c), { recursive: true });
    const report = join(dir, 'linear-cat-dog.json');
    const linear = selfsup(['eval', 'linear', '--checkpoint', checkpoint, '--train', mini, '--test', partial, '--epochs', '5', '--out', report]);
    assert.equal(linear.status, 0, linear.stderr);
    const r = JSON.parse(readFileSync(report, 'utf8')) as { perClass: (number | null)[]; confusion: number[][]; top1: number; testImages: number };
    // cat is class 3 and dog class 5 of the training folders; by position they were 'airplane' and 'automobile'
    assert.equal(r.perClass.length, 10);
    assert.deepEqual(r.perClass.map((p, c) => (p === null ? null : c)).filter((c) => c !== null), [3, 5]);
    assert.equal(r.confusion[3].reduce((a, b) => a + b, 0) + r.confusion[5].reduce((a, b) => a + b, 0), 8);
    assert.match(linear.stdout, /^ {2}cat +[\d.]+%$/m);
    // a test class the training set lacks is reported and left out, not renamed
    const extra = join(dir, 'with-wolf');
    cpSync(partial, extra, { recursive: true });
    cpSync(join(mini, 'horse'), join(extra, 'wolf'), { recursive: true });
    const knn = selfsup(['eval', 'knn', '--checkpoint', checkpoint, '--train', mini, '--test', extra, '--out', join(dir, 'knn-wolf.json')]);
    assert.equal(knn.status, 0, knn.stderr);
    assert.match(knn.stderr, /4 test images of a class the training set lacks \(wolf 4\) are left out/);
    const k = JSON.parse(readFileSync(join(dir, 'knn-wolf.json'), 'utf8')) as { testImages: number; unmatchedTestClasses: Record<string, number> };
    assert.deepEqual([k.testImages, k.unmatchedTestClasses], [8, { wolf: 4 }]);
  });
});

describe('run folders are owned', () => {
  test('an existing run is not replaced without --overwrite; --overwrite replaces it', () => {
    const [before, metrics] = [bytesOf(checkpoint), readFileSync(join(run, 'metrics.jsonl'), 'utf8')];
    const again = selfsup(['pretrain', ...tiny, '--method', 'byol', '--epochs', '1', '--out', run]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds a run \(a checkpoint\): pass --resume to continue it, --overwrite to replace it/);
    assert.equal(bytesOf(checkpoint), before);
    assert.equal(readFileSync(join(run, 'metrics.jsonl'), 'utf8'), metrics);
    const copy = join(dir, 'replaced');
    cpSync(run, copy, { recursive: true });
    const replaced = selfsup(['pretrain', ...tiny, '--epochs', '1', '--seed', '3', '--out', copy, '--overwrite']);
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.notEqual(bytesOf(join(copy, 'checkpoint.safetensors')), before);
    assert.ok(!existsSync(join(copy, 'run.lock')), 'the lock goes with the process');
  });

  test('a second process on a run folder is refused while the first trains; a dead process\'s lock is taken over and its half-written files removed', async () => {
    const out = join(dir, 'busy');
    const first: ChildProcess = spawn(process.execPath, [cli, 'pretrain', ...tiny, '--epochs', '200', '--out', out], { stdio: 'ignore' });
    const exited = new Promise<number | null>((done) => first.on('exit', (code) => done(code)));
    try {
      for (let i = 0; i < 600 && !existsSync(join(out, 'run.lock')); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(join(out, 'run.lock')));
      const second = selfsup(['pretrain', ...tiny, '--epochs', '1', '--out', out, '--overwrite']);
      assert.equal(second.status, 1);
      assert.match(second.stderr, new RegExp(`is in use by process ${first.pid} on .*: one run folder takes one training process`));
    } finally {
      first.kill('SIGKILL');
    }
    await exited;
    // killed: its lock stays behind, naming a process that no longer runs
    assert.equal(JSON.parse(readFileSync(join(out, 'run.lock'), 'utf8')).pid, first.pid);
    // and, had it been killed mid-write, the half-written copies of its files: taking over removes them
    const halfWritten = ['checkpoint.safetensors', 'metrics.jsonl', 'config.json', 'summary.json'].map((name) => `.${name}.tmp-${first.pid}`);
    for (const name of [...halfWritten, '.notes.txt.tmp-1']) writeFileSync(join(out, name), '{"ste');
    const lock = claimRunFolder(out, { resume: true });
    assert.equal(JSON.parse(readFileSync(join(out, 'run.lock'), 'utf8')).pid, process.pid);
    assert.deepEqual(readdirSync(out).filter((name) => name.includes('.tmp-')), ['.notes.txt.tmp-1'], 'a run file\'s copy is removed, a user\'s file kept');
    lock.release();
    assert.ok(!existsSync(join(out, 'run.lock')));
  });

  test('no other command writes over a run\'s files', () => {
    const before = bytesOf(checkpoint);
    const cases: [string[], RegExp][] = [
      [['export', '--checkpoint', checkpoint, '--format', 'safetensors', '--out', join(run, 'checkpoint')], /checkpoint\.safetensors: that is the checkpoint\.safetensors of the run/],
      [['export', '--checkpoint', checkpoint, '--format', 'hf', '--out', run], /config\.json: that is the config\.json of the run/],
      [['tokenizer', 'train', '--data', mini, '--kind', 'kmeans', '--out', checkpoint], /that is the checkpoint\.safetensors of the run/],
      [['eval', 'knn', '--checkpoint', checkpoint, '--train', mini, '--test', mini, '--out', join(run, 'metrics.jsonl')], /that is the metrics\.jsonl of the run/],
      [['embed', '--checkpoint', checkpoint, '--data', mini, '--out', join(run, 'checkpoint')], /that is the checkpoint\.safetensors of the run/],
    ];
    for (const [args, message] of cases) {
      const refused = selfsup(args);
      assert.equal(refused.status, 2, args.join(' '));
      assert.match(refused.stderr, message);
    }
    assert.equal(bytesOf(checkpoint), before);
    assert.throws(() => refuseRunFile(join(run, 'summary.json')), /only its training writes/);
    assert.doesNotThrow(() => refuseRunFile(join(run, 'linear.json')), 'reports beside a run are welcome');
  });

  test('--out refuses the filesystem root and the home folder itself', () => {
    const home = mkdtempSync(join(tmpdir(), 'selfsup-home-'));
    for (const out of ['/', home]) {
      const refused = selfsup(['pretrain', ...tiny, '--epochs', '1', '--out', out], { env: { ...process.env, HOME: home } });
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /(filesystem root|home folder itself) cannot hold a run/);
    }
    assert.deepEqual(readdirSync(home), []);
  });
});

describe('resume continues the same run only', () => {
  test('a different batch, data or a corrupt step is refused with what differs; --allow-changed lets a change through', () => {
    const out = join(dir, 'resume');
    cpSync(run, out, { recursive: true });
    const batch = selfsup(['pretrain', ...tiny, '--epochs', '2', '--batch-size', '8', '--out', out, '--resume']);
    assert.equal(batch.status, 1);
    assert.match(batch.stderr, /cannot resume .*: this is not the run it holds:\n {2}batchSize: 16 in the checkpoint, 8 now\n {2}epochs: 1 in the checkpoint, 2 now/);
    assert.match(batch.stderr, /--allow-changed batchSize,epochs/);
    const other = join(dir, 'other-data');
    cpSync(mini, other, { recursive: true });
    copyFileSync(join(mini, 'cat', readdirSync(join(mini, 'cat'))[0]), join(other, 'cat', 'extra.jpg'));
    const data = selfsup(['pretrain', ...tiny, '--data', other, '--epochs', '1', '--out', out, '--resume']);
    assert.equal(data.status, 1);
    assert.match(data.stderr, /data: "[0-9a-f]+" in the checkpoint, "[0-9a-f]+" now/);
    const allowed = selfsup(['pretrain', ...tiny, '--epochs', '2', '--out', out, '--resume', '--allow-changed', 'epochs']);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stderr, /resuming .* from step 2/);
    assert.equal(selfsup(['pretrain', ...tiny, '--out', out, '--resume', '--allow-changed', 'colour']).status, 2);

    // a checkpoint whose step is negative, and one whose tensors overlap
    const corrupt = join(dir, 'corrupt');
    mkdirSync(corrupt);
    const { tensors, metadata } = readSafetensors(checkpoint);
    const meta = JSON.parse(metadata.selfsup) as { step: number };
    writeSafetensors(join(corrupt, 'checkpoint.safetensors'), tensors, { selfsup: JSON.stringify({ ...meta, step: -3 }) });
    const negative = selfsup(['pretrain', ...tiny, '--epochs', '1', '--out', corrupt, '--resume']);
    assert.equal(negative.status, 1);
    assert.match(negative.stderr, /corrupt checkpoint: step -3, expected a whole number >= 0/);
    // two tensors whose byte ranges overlap (the second's offsets moved onto the first's, the header padded to its length)
    const overlapping = join(dir, 'overlap.safetensors');
    writeSafetensors(overlapping, { a: zeros([4]), b: zeros([4]) });
    const file = readFileSync(overlapping);
    const headerLength = Number(file.readBigUInt64LE(0));
    const header = file.subarray(8, 8 + headerLength).toString().replace('"data_offsets":[16,32]', '"data_offsets":[8,24]');
    writeFileSync(overlapping, Buffer.concat([file.subarray(0, 8), Buffer.from(header.padEnd(headerLength, ' ')), file.subarray(8 + headerLength)]));
    assert.throws(() => readSafetensors(overlapping), /tensors 'a' \[0, 16\] and 'b' \[8, 24\] overlap/);
    for (const t of tensors.values()) t.dispose();
  });

  test('identityChanges names what differs and skips what is allowed', () => {
    assert.deepEqual(identityChanges({ a: 1, b: [1, 2] }, { a: 1, b: [1, 3], c: 'x' }), ['b: [1,2] in the checkpoint, [1,3] now', 'c: (unset) in the checkpoint, "x" now']);
    assert.deepEqual(identityChanges({ a: 1 }, { a: 2 }, ['a']), []);
  });
});

describe('runs that never trained, weights that are not numbers', () => {
  test('a run whose steps all diverge exits non-zero and announces no checkpoint; evaluating NaN weights is refused', () => {
    const out = join(dir, 'diverged');
    const diverged = selfsup(['pretrain', ...tiny, '--epochs', '2', '--lr', '1e30', '--out', out]);
    assert.equal(diverged.status, 1, diverged.stdout);
    assert.match(diverged.stderr, /last \d+ steps? skipped|no longer finite/);
    assert.doesNotMatch(diverged.stdout, /pretrained|checkpoint/);
    // weights with a NaN, written as a checkpoint outside any run folder
    const { tensors, metadata } = readSafetensors(checkpoint);
    const nan = join(dir, 'nan.safetensors');
    tensors.get('model.backbone.conv1.weight')!.fill_(NaN);
    writeSafetensors(nan, tensors, metadata);
    for (const t of tensors.values()) t.dispose();
    const refused = selfsup(['eval', 'knn', '--checkpoint', nan, '--train', mini, '--test', mini]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /nan\.safetensors: 1 weight tensor holds NaN or Inf values \(backbone\.conv1\.weight\)/);
    const init = selfsup(['pretrain', ...tiny, '--epochs', '1', '--init', nan, '--out', join(dir, 'from-nan')]);
    assert.match(init.stderr, /holds NaN or Inf values/);
  });
});

describe('special files in data folders', () => {
  test('a FIFO, a link to /dev/zero, a decompression bomb and an image of another size are skipped and counted, none read whole', async () => {
    const folder = join(dir, 'special');
    mkdirSync(folder);
    for (const f of readdirSync(join(mini, 'cat'))) copyFileSync(join(mini, 'cat', f), join(folder, f));
    execFileSync('mkfifo', [join(folder, 'fifo.jpg')]);
    symlinkSync('/dev/zero', join(folder, 'zero.png'));
    // a JPEG whose header says 30000x30000 (its frame header patched): refused from the header
    const small = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
    small.writeUInt16BE(30000, sof + 5);
    small.writeUInt16BE(30000, sof + 7);
    writeFileSync(join(folder, 'bomb.jpg'), small);
    // a 6000x6000 photo among 32x32 ones: refused by its header, never decoded (108 MB of pixels)
    await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#406080' } }).jpeg().toFile(join(folder, 'large.jpg'));
    const script = `import { ImageFolder } from ${JSON.stringify(join(root, 'dist/src/data/index.js'))};
      const folder = ImageFolder.scan(${JSON.stringify(folder)});
      const images = await folder.load({ warn: () => undefined });
      const first = { length: images.length, skipped: folder.skipped.map((s) => s.reason), rss: process.resourceUsage().maxRSS };
      const resized = await folder.load({ size: 32, warn: () => undefined });
      console.log(JSON.stringify({ first, resized: { length: resized.length, skipped: folder.skipped.map((s) => s.reason) } }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    const { first: result, resized } = JSON.parse(child.stdout) as { first: { length: number; skipped: string[]; rss: number }; resized: { length: number; skipped: string[] } };
    assert.equal(result.length, 4);
    assert.equal(result.skipped.length, 4);
    assert.ok(result.skipped.some((r) => /a FIFO, not a regular file/.test(r)));
    assert.ok(result.skipped.some((r) => /a character device, not a regular file/.test(r)));
    assert.ok(result.skipped.some((r) => /exceeds pixel limit/.test(r)), result.skipped.join('; '));
    assert.ok(result.skipped.some((r) => /is 6000x6000, the others 32x32/.test(r)));
    // resized to 32 px: the large photo is shrunk while decoding; the bomb is still refused from its header
    assert.equal(resized.length, 5);
    assert.equal(resized.skipped.length, 3);
    assert.ok(resized.skipped.some((r) => /exceeds pixel limit/.test(r)), resized.skipped.join('; '));
    // decoding the 6000x6000 image would take 108 MB at once; reading the rest takes far less
    const baseline = spawnSync(process.execPath, ['--input-type=module', '-e', `import ${JSON.stringify(join(root, 'dist/src/data/index.js'))}; console.log(process.resourceUsage().maxRSS)`], { encoding: 'utf8' });
    assert.ok(result.rss - Number(baseline.stdout) < 60_000, `peak RSS ${result.rss} kB vs ${baseline.stdout.trim()} kB for loading the module alone`);
  });
});

describe('bounds, CSV, dashboard', () => {
  test('--threads and --workers above 4 per core are refused before any work', () => {
    const threads = selfsup(['pretrain', ...tiny, '--out', join(dir, 'threads'), '--threads', '100000']);
    assert.equal(threads.status, 2);
    assert.match(threads.stderr, /threads: at most \d+ \(4 x the \d+ cores of this machine\)/);
    const workers = selfsup(['pretrain', ...tiny, '--out', join(dir, 'threads'), '--workers', '1000']);
    assert.match(workers.stderr, /workers: at most \d+/);
    const evalThreads = selfsup(['eval', 'knn', '--checkpoint', checkpoint, '--train', mini, '--test', mini, '--threads', '100000']);
    assert.equal(evalThreads.status, 2);
    assert.match(evalThreads.stderr, /--threads 100000: at most \d+/);
    assert.ok(!existsSync(join(dir, 'threads')));
  });

  test('CSV is RFC 4180 (Python reads it back) with formula-looking cells kept as text', () => {
    const names = ['q"uote.jpg', 'a,b.jpg', '=HYPERLINK("x").jpg', 'line\nbreak.jpg', '+1.jpg', 'plain.jpg'];
    const text = csvLines([['index', 'path'], ...names.map((n, i) => [i, n])]);
    assert.deepEqual(parseCsv(text).slice(1).map((r) => r[1]), names.map((n) => (/^[=+]/.test(n) ? `'${n}` : n)));
    const file = join(dir, 'names.csv');
    writeFileSync(file, text);
    const python = spawnSync('/usr/bin/python3', ['-c', `import csv, json, sys; print(json.dumps([r[1] for r in csv.reader(open(sys.argv[1], newline=''))][1:]))`, file], { encoding: 'utf8' });
    assert.equal(python.status, 0, python.stderr);
    assert.deepEqual(JSON.parse(python.stdout), names.map((n) => (/^[=+]/.test(n) ? `'${n}` : n)));
    // embed writes it: a data folder with such names reads back in Python
    const photos = join(dir, 'odd-names');
    mkdirSync(photos);
    const cat = readdirSync(join(mini, 'cat')).map((f) => join(mini, 'cat', f));
    names.filter((n) => !n.includes('\n')).forEach((n, i) => copyFileSync(cat[i % cat.length], join(photos, n)));
    const embed = selfsup(['embed', '--checkpoint', checkpoint, '--data', photos, '--out', join(dir, 'odd')]);
    assert.equal(embed.status, 0, embed.stderr);
    const back = spawnSync('/usr/bin/python3', ['-c', `import csv, json, sys; print(json.dumps([r[1] for r in csv.reader(open(sys.argv[1], newline=''))][1:]))`, join(dir, 'odd.csv')], { encoding: 'utf8' });
    const paths = JSON.parse(back.stdout) as string[];
    assert.ok(paths.includes(join(photos, 'q"uote.jpg')) && paths.includes(join(photos, 'a,b.jpg')), paths.join(' | '));
  });

  describe('dashboard', () => {
    let url = '';
    let close: () => Promise<void> = async () => undefined;
    // a run folder whose metrics, config and summary are FIFOs: reading one would wait for a writer forever
    const stuck = join(dir, 'stuck-run');
    before(async () => {
      mkdirSync(stuck);
      for (const f of ['metrics.jsonl', 'config.json', 'summary.json', 'views.png']) execFileSync('mkfifo', [join(stuck, f)]);
      const started = await startDashboard({ roots: [run, stuck], port: 0 });
      url = started.url;
      close = started.close;
    });
    after(() => close());
    const request = (path: string, host?: string): Promise<{ status: number; body: string }> => new Promise((done, fail) => {
      const { hostname, port } = new URL(url);
      get({ hostname, port, path, headers: { host: host ?? `localhost:${port}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      }).on('error', fail).setTimeout(15_000, () => fail(new Error(`${path}: no answer in 15 s`)));
    });
    test('a Host that is not this machine is refused (DNS rebinding); localhost names are served', async () => {
      const { port } = new URL(url);
      assert.equal((await request('/api/runs', `attacker.example:${port}`)).status, 403);
      assert.equal((await request('/api/runs', 'attacker.example')).status, 403);
      assert.equal((await request('/api/runs', `localhost:${port}`)).status, 200);
      assert.equal((await request('/api/runs', `127.0.0.1:${port}`)).status, 200);
    });
    test('FIFOs in a run folder freeze nothing', async () => {
      const runs = JSON.parse((await request('/api/runs')).body) as { name: string; steps: number }[];
      assert.deepEqual(runs.map((r) => r.name).sort(), ['run', 'stuck-run']);
      const detail = await request('/api/runs/stuck-run');
      assert.equal(detail.status, 200);
      assert.equal((JSON.parse(detail.body) as { skippedLines: number }).skippedLines, 1);
      assert.notEqual((await request('/api/runs/stuck-run/files/views.png')).status, 200);
    });
  });

  test('the embedding map reads a relative data path from where the run was started, not from the server\'s folder', async () => {
    const started = join(dir, 'elsewhere');
    mkdirSync(join(started, 'data'), { recursive: true });
    cpSync(mini, join(started, 'data', 'mini'), { recursive: true });
    const made = selfsup(['pretrain', ...tiny, '--data', 'data/mini', '--epochs', '1', '--out', join(started, 'runs', 'rel')], { cwd: started });
    assert.equal(made.status, 0, made.stderr);
    const { embeddingMap } = await import('../src/dashboard/embeddingMap.js');
    assert.notEqual(process.cwd(), started);
    const map = await embeddingMap(join(started, 'runs', 'rel'), { sample: 20 });
    assert.equal(map.data, join(started, 'data', 'mini'));
    assert.equal(map.points.length, 20);
    assert.ok(statSync(map.data).isDirectory());
  });
});
