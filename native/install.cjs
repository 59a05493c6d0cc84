// Makes the libtorch addon (native/build/Release/selfsup.node) when selfsup is installed as a
// dependency: npm runs it as the package's install script, and `npm rebuild selfsup` reruns it.
//   1. an addon already here that loads: kept (pass --force to rebuild);
//   2. a development checkout (src/ and tsconfig.json): `npm run setup` builds the addon, nothing here;
//   3. the prebuilt addon shipped in prebuilds/<platform>-<arch>/, made against Debian's libtorch-dev:
//      used when LIBTORCH is unset and it loads against this machine's libtorch (same soname);
//   4. otherwise node-gyp builds it against LIBTORCH or Debian's libtorch-dev (about a minute on 2 cores).
// Where libtorch is missing it says the exact system step, and fails the install.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const addon = path.join(__dirname, 'build', 'Release', 'selfsup.node');
const force = process.argv.includes('--force');
const say = (line) => process.stderr.write(`selfsup: ${line}\n`);

/** Whether a .node file loads in a fresh Node (its libtorch and symbols resolve). */
function loads(file) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
  return r.status === 0;
}

function prebuilt() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const file = path.join(dir, 'selfsup.node');
  if (!fs.existsSync(file)) return undefined;
  const about = JSON.parse(fs.readFileSync(path.join(dir, 'libtorch.json'), 'utf8'));
  return { file, about };
}

const HOW_TO_GET_LIBTORCH = [
  'selfsup needs libtorch (PyTorch\'s C++ library) to build its addon. Either',
  '  Debian/Ubuntu: sudo apt-get install libtorch-dev libopenblas0-openmp libgloo-dev',
  '  or a PyTorch install: LIBTORCH=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")',
  'then run `npm rebuild selfsup` in your project (`npm rebuild selfsup --ignore-scripts=false` where',
  'install scripts are turned off).',
].join('\n');

/** node-gyp: the copy npm runs its scripts with, one installed beside selfsup, or the one bundled with npm. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  try { return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }); } catch { /* not installed */ }
  const bundled = path.join(path.dirname(path.dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return fs.existsSync(bundled) ? bundled : undefined;
}

function build() {
  const where = spawnSync(process.execPath, [path.join(__dirname, 'libtorch.cjs'), 'info'], { encoding: 'utf8' });
  if (where.status !== 0) {
    say(`${(where.stderr.match(/Error: (.*)/) ?? [])[1] ?? 'libtorch not found'}\n${HOW_TO_GET_LIBTORCH}`);
    return 1;
  }
  const args = ['rebuild', '-j', String(Math.max(1, os.cpus().length))];
  // this machine's Node headers where Debian has them: node-gyp needs no download
  if (!process.env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  const gyp = nodeGyp();
  if (!gyp) {
    say('node-gyp not found: run this through npm (`npm rebuild selfsup`), which brings its own');
    return 1;
  }
  say(`building the addon against libtorch ${process.env.LIBTORCH ?? 'from libtorch-dev (/usr)'} (about a minute on 2 cores)`);
  const r = spawnSync(process.execPath, [gyp, ...args], { cwd: __dirname, stdio: 'inherit' });
  if (r.status !== 0 || !loads(addon)) {
    say(`building the addon failed (node-gyp ${r.error ? r.error.message : `exit ${r.status}`}; its output is above).\n${HOW_TO_GET_LIBTORCH}`);
    return 1;
  }
  fs.writeFileSync(path.join(__dirname, 'build', 'libtorch.txt'), process.env.LIBTORCH ?? 'debian');
  say('addon built');
  return 0;
}

function main() {
  if (!force && fs.existsSync(path.join(root, 'src')) && fs.existsSync(path.join(root, 'tsconfig.json'))) {
    say('a development checkout: `npm run setup` builds the addon');
    return 0;
  }
  if (!force && fs.existsSync(addon) && loads(addon)) return 0;
  const shipped = process.env.LIBTORCH ? undefined : prebuilt();
  if (shipped && loads(shipped.file)) {
    fs.mkdirSync(path.dirname(addon), { recursive: true });
    fs.copyFileSync(shipped.file, addon);
    say(`using the prebuilt addon (${shipped.about.libtorch}, libtorch ${shipped.about.version})`);
    return 0;
  }
  return build();
}

process.exitCode = main();
