// The layering rules a test can hold: nothing but the CLI imports src/cli (run folders, the run
// schema and checkpoint loading live in src/runs, for the CLI, the dashboard and users alike).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const src = fileURLToPath(new URL('../../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('layers', () => {
  test('no module outside src/cli imports from src/cli', () => {
    const offenders = sources(src)
      .filter((file) => !relative(src, file).startsWith('cli/'))
      .filter((file) => /from '(\.\.\/)+cli\//.test(readFileSync(file, 'utf8')))
      .map((file) => relative(src, file));
    assert.ok(sources(src).length > 100, 'the sources were found');
    assert.deepEqual(offenders, []);
  });
});
