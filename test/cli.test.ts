// The selfsup command: preview writes the PNG grid it describes; bad options are refused with the
// option named and exit code 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import sharp from 'sharp';

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
