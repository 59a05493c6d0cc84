// The dashboard: run folders read as they are written (corrupt lines skipped), files served only
// from inside a run folder (no '..', no absolute paths, no links out), and the page itself in
// headless Chromium (Debian's, driven by playwright-core) on real runs: the list, the loss curve
// with the run's points, live updates, the detail and comparison views, a screenshot kept in
// test-artifacts/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { fileInRun, findRuns, readMetrics } from '../src/runs/index.js';
import { type Dashboard, startDashboard } from '../src/dashboard/server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const mini = join(root, 'test/fixtures/cifar10-mini');
const cli = join(root, 'dist/src/cli/main.js');
const runs = mkdtempSync(join(tmpdir(), 'selfsup-dashboard-'));
const selfsup = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const lossRows = (dir: string) => readMetrics(dir).rows.filter((r) => typeof r.loss === 'number').length;

/** GET with the path sent as written (fetch would resolve '..' segments before sending). */
const rawGet = (url: string, path: string): Promise<{ status: number; body: string }> => new Promise((done, fail) => {
  const { hostname, port } = new URL(url);
  get({ hostname, port, path }, (res) => {
    let body = '';
    res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    res.on('end', () => done({ status: res.statusCode ?? 0, body }));
  }).on('error', fail);
});

describe('run folders', () => {
  test('runs found in a folder of runs, metrics read with corrupt and half-written lines skipped, an exported model folder is not a run', () => {
    const dir = join(runs, 'folders');
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'exported'), { recursive: true });
    writeFileSync(join(dir, 'a', 'metrics.jsonl'), '{"step":1,"loss":2}\nnot json\n[1,2]\n{"step":2,"loss":1.5}\n{"step":3,"lo');
    writeFileSync(join(dir, 'exported', 'config.json'), '{"model_type":"resnet"}');
    assert.deepEqual([...findRuns([dir]).keys()], ['a']);
    assert.deepEqual([...findRuns([join(dir, 'a')]).keys()], ['a']);
    const { rows, skipped } = readMetrics(join(dir, 'a'));
    assert.deepEqual(rows, [{ step: 1, loss: 2 }, { step: 2, loss: 1.5 }]);
    assert.equal(skipped, 3);
    assert.throws(() => findRuns([join(dir, 'nowhere')]), /nowhere: not a folder \(expected a run folder or a folder of runs\)/);
  });
  test('a file is served only from inside its run folder', () => {
    const dir = join(runs, 'folders', 'a');
    writeFileSync(join(dir, 'views.png'), 'png');
    writeFileSync(join(runs, 'folders', 'secret.json'), '{}');
    symlinkSync(join(runs, 'folders', 'secret.json'), join(dir, 'link.json'));
    assert.equal(fileInRun(dir, 'views.png'), join(dir, 'views.png'));
    for (const bad of ['../secret.json', 'x/../../secret.json', '/etc/passwd', join(runs, 'folders', 'secret.json'), 'link.json', 'missing.png', '', 'a\0b']) {
      assert.equal(fileInRun(dir, bad), null, bad);
    }
  });
});

describe('selfsup dashboard', () => {
  let dashboard: Dashboard;
  const simclr = join(runs, 'all', 'simclr');
  const byol = join(runs, 'all', 'byol');
  before(async () => {
    for (const [method, out] of [['simclr', simclr], ['byol', byol]]) {
      const run = selfsup('pretrain', '--method', method, '--data', mini, '--out', out, '--epochs', '2', '--batch-size', '16', '--width', '0.25', '--hidden-dim', '64',
        '--knn-train', mini, '--knn-test', mini, '--knn-every', '1', '--diagnostics-every', '1');
      assert.equal(run.status, 0, run.stderr);
    }
    const preview = selfsup('preview', '--data', mini, '--method', 'mae', '--out', join(simclr, 'masked.png'), '--count', '3'); // any picture written into a run folder
    assert.equal(preview.status, 0, preview.stderr);
    appendFileSync(join(simclr, 'metrics.jsonl'), '{"step": 99, "loss": 1.2'); // a line being written
    writeFileSync(join(runs, 'all', 'outside.json'), '{"secret": true}');
    dashboard = await startDashboard({ roots: [join(runs, 'all')], port: 0 });
  });
  after(async () => dashboard?.close());

  test('the API: runs, details with the half-written line skipped, files, refusals, the embedding map', async () => {
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const list = await (await fetch(`${dashboard.url}api/runs`)).json() as { name: string; method: string }[];
    assert.deepEqual(list.map((r) => [r.name, r.method]), [['byol', 'byol'], ['simclr', 'simclr']]);
    const detail = await (await fetch(`${dashboard.url}api/runs/simclr`)).json() as { metrics: unknown[]; skippedLines: number; pictures: string[]; config: { method: string } };
    assert.equal(detail.skippedLines, 1);
    assert.equal(detail.metrics.length, readMetrics(simclr).rows.length);
    assert.deepEqual(detail.pictures, ['masked.png', 'views.png'], 'pretraining writes views.png, the augmentation preview');
    const png = await fetch(`${dashboard.url}api/runs/simclr/files/views.png`);
    assert.equal(png.headers.get('content-type'), 'image/png');
    for (const path of ['/api/runs/simclr/files/../outside.json', '/api/runs/simclr/files/%2e%2e/outside.json', '/api/runs/simclr/files/..%2Foutside.json',
      '/api/runs/simclr/files//etc/passwd', '/api/runs/simclr/files/%2Fetc%2Fpasswd', '/api/runs/simclr/files/checkpoint.safetensors', '/api/runs/../outside.json',
      '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%5C..%5Coutside.json']) {
      const res = await rawGet(dashboard.url, path);
      assert.equal(res.status, 403, path);
      assert.doesNotMatch(res.body, /secret|root:/);
    }
    assert.equal((await rawGet(dashboard.url, '/api/runs/nope')).status, 404);
    assert.equal((await rawGet(dashboard.url, '/etc/passwd')).status, 404, 'not a file of the page');
    assert.equal((await fetch(`${dashboard.url}api/runs`, { method: 'POST' })).status, 405);
    const map = await (await fetch(`${dashboard.url}api/runs/simclr/embedding-map`)).json() as { points: number[][]; labels: number[]; classes: string[] };
    assert.equal(map.points.length, 40);
    assert.ok(map.points.every((p) => p.length === 2 && p.every(Number.isFinite)));
    assert.deepEqual([...new Set(map.labels)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(map.classes.length, 10);
  });

  test('in headless Chromium: the list, a run\'s loss curve with its points, live updates, the comparison view; a screenshot', async () => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dashboard.url);
      await page.waitForSelector('tr[data-run="simclr"]');
      assert.deepEqual(await page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.getAttribute('data-run'))), ['byol', 'simclr']);
      await page.click('tr[data-run="simclr"] a.run-link');
      await page.waitForSelector('#run-title');
      assert.equal(await page.textContent('#run-title'), 'simclr');
      const loss = 'figure.chart[data-series="loss"]';
      await page.waitForSelector(`${loss}[data-points="${lossRows(simclr)}"]`);
      assert.equal(lossRows(simclr), 4, 'two epochs of two steps');
      assert.match(await page.textContent('main') ?? '', /1 unreadable metrics line\(s\) skipped/);
      await page.waitForSelector('figure.chart[data-series="knn_top1"][data-points="2"]');
      await page.waitForSelector('.pictures img[alt="views.png"]');
      await page.waitForSelector('.pictures img[alt="masked.png"]');
      // the element exists before its picture has arrived: wait for the picture itself
      await page.waitForFunction(`(document.querySelector('.pictures img[alt="views.png"]')?.naturalWidth ?? 0) > 0`, undefined, { timeout: 10_000 });
      // the run goes on: a new line appears on the curve without reloading
      appendFileSync(join(simclr, 'metrics.jsonl'), '\n{"step": 5, "loss": 1.0, "lr": 0.01}\n');
      await page.waitForSelector(`${loss}[data-points="5"]`, { timeout: 10000 });
      mkdirSync(join(root, 'test-artifacts'), { recursive: true });
      const shot = join(root, 'test-artifacts', 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(readFileSync(shot).subarray(1, 4).toString() === 'PNG');
      // two runs compared: both curves on one chart
      await page.goto(dashboard.url);
      await page.waitForSelector('tr[data-run="byol"]');
      await page.check('tr[data-run="byol"] input[type="checkbox"]');
      await page.check('tr[data-run="simclr"] input[type="checkbox"]');
      await page.click('#compare');
      await page.waitForSelector(`${loss}[data-points="${lossRows(byol) + 5}"]`);
      assert.equal(await page.$$eval('#compared tr', (rows) => rows.length), 3);
      await page.screenshot({ path: join(root, 'test-artifacts', 'dashboard-compare.png'), fullPage: true });
      assert.deepEqual(errors, []);
      console.log(`# screenshots: ${shot}, ${join(root, 'test-artifacts', 'dashboard-compare.png')}`);
    } finally {
      await browser.close();
    }
  });
});
