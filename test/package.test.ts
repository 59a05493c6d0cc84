// selfsup as a dependency: the packed package installs into an empty project offline (from the
// tarball and npm's cache), its install script puts the addon in place, a TypeScript program compiled
// against the published types trains two SimCLR steps and saves a checkpoint, and `npx selfsup info` runs (with tcmalloc).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { readSafetensorsMetadata } from '../src/io/index.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'selfsup-consumer-'));
const project = join(work, 'project');
const npm = (args: string[], cwd: string) => execFileSync('npm', args, {
  cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
});

describe('npm install selfsup in a project of its own', () => {
  let tarball = '';
  let integrity = '';

  test('npm pack ships the library, its types, the addon\'s sources and a prebuilt addon: no tests, benchmarks or data', () => {
    execFileSync(process.execPath, [join(repo, 'native', 'prebuild.cjs')], { stdio: 'pipe' });
    // prepack (tsc and the prebuild) is what `npm pack` runs; the suite has just built both
    const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], repo)) as
      { filename: string; integrity: string; entryCount: number; files: { path: string }[] }[];
    tarball = join(work, packed.filename);
    integrity = packed.integrity;
    const paths = packed.files.map((f) => f.path);
    for (const needed of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/dashboard/index.html',
      'native/binding.gyp', 'native/src/addon.cc', 'native/install.cjs', 'native/libtorch.cjs', 'README.md', 'examples/first-run.ts',
      `prebuilds/${process.platform}-${process.arch}/selfsup.node`]) {
      assert.ok(paths.includes(needed), `the package lacks ${needed}`);
    }
    const stray = paths.filter((p) => /^(test|bench|data|dist\/test|dist\/bench|native\/build)\//.test(p));
    assert.deepEqual(stray, [], 'files users do not need');
    assert.ok(packed.entryCount < 1000, `${packed.entryCount} files`);
  });

  test('installed offline, a TypeScript program against the published types trains SimCLR and saves a checkpoint; npx selfsup info runs', () => {
    assert.ok(tarball, 'packed by the test before');
    mkdirSync(project);
    copyFileSync(tarball, join(project, 'selfsup.tgz'));
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
    const dependencies = { selfsup: 'file:selfsup.tgz' };
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }));
    // offline: npm's cache holds every dependency's tarball (setup's npm ci), keyed by the integrity in our lock file
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const packages: Record<string, unknown> = {
      '': { name: 'consumer', dependencies },
      'node_modules/selfsup': {
        version: manifest.version, resolved: 'file:selfsup.tgz', integrity, hasInstallScript: true,
        dependencies: manifest.dependencies, bin: manifest.bin, engines: manifest.engines, os: manifest.os, cpu: manifest.cpu,
      },
    };
    for (const [key, entry] of Object.entries(lock.packages)) if (key.startsWith('node_modules/') && !entry.dev) packages[key] = entry;
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }));
    npm(['ci', '--offline'], project);
    const installed = join(project, 'node_modules', 'selfsup');
    assert.ok(existsSync(join(installed, 'native', 'build', 'Release', 'selfsup.node')), 'the install script placed the addon');

    // a folder of the user's photos: 16 of the demo's images
    const photos = join(project, 'photos');
    mkdirSync(photos);
    const demo = join(repo, 'data', 'cifar10-demo', 'train', 'cat');
    for (const name of readdirSync(demo).slice(0, 16)) copyFileSync(join(demo, name), join(photos, name));

    copyFileSync(join(repo, 'examples', 'first-run.ts'), join(project, 'first-run.ts'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], typeRoots: [join(repo, 'node_modules', '@types')] },
      files: ['first-run.ts'],
    }));
    execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
    const run = join(project, 'runs', 'first');
    const out = execFileSync(process.execPath, ['first-run.js', photos, run], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /^2 steps, loss \d+\.\d+ -> \d+\.\d+, checkpoint .*checkpoint\.safetensors/m);
    assert.equal(JSON.parse(readSafetensorsMetadata(join(run, 'checkpoint.safetensors')).selfsup).step, 2);

    const info = execFileSync('npx', ['--no-install', 'selfsup', 'info', '--json'], { cwd: project, encoding: 'utf8' });
    assert.match(JSON.parse(info).libtorch, /^\d+\.\d+/);
    assert.equal(JSON.parse(info).malloc, 'tcmalloc', 'the installed command (node_modules/.bin/selfsup -> bin/selfsup) preloads tcmalloc');
  });

  test('where libtorch is missing, the install script names the system step and fails', () => {
    const installed = join(project, 'node_modules', 'selfsup');
    const r = spawnSync(process.execPath, [join(installed, 'native', 'install.cjs'), '--force'], {
      cwd: installed, encoding: 'utf8', env: { ...process.env, LIBTORCH: join(work, 'no-libtorch') },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /LIBTORCH=.*no-libtorch: expected .*ATen\.h/);
    assert.match(r.stderr, /apt-get install libtorch-dev libopenblas0-openmp/);
    assert.match(r.stderr, /npm rebuild selfsup/);
    assert.ok(existsSync(join(installed, 'native', 'build', 'Release', 'selfsup.node')), 'the working addon is kept');
  });
});
