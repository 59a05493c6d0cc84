// Finds libtorch the way tch-rs does, and prints what node-gyp needs.
//   LIBTORCH=<folder>: a libtorch distribution or a PyTorch install's torch/ folder
//   (both hold include/ and lib/); otherwise Debian's libtorch-dev under /usr.
// Usage (from binding.gyp): node libtorch.cjs includes|libdir|libs|defines|std|info
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

function locate() {
  const root = process.env.LIBTORCH;
  if (root) {
    const include = path.join(root, 'include');
    const lib = path.join(root, 'lib');
    if (!fs.existsSync(path.join(include, 'ATen', 'ATen.h'))) {
      throw new Error(`LIBTORCH=${root}: expected ${include}/ATen/ATen.h (a libtorch folder or a PyTorch install's torch/ folder)`);
    }
    return { include, api: path.join(include, 'torch', 'csrc', 'api', 'include'), lib, system: false };
  }
  const include = '/usr/include';
  if (!fs.existsSync(path.join(include, 'ATen', 'ATen.h'))) {
    throw new Error('libtorch not found: install Debian\'s libtorch-dev (npm run setup does) or set LIBTORCH to a libtorch folder');
  }
  const multiarch = fs.existsSync('/usr/lib/x86_64-linux-gnu/libtorch_cpu.so') ? '/usr/lib/x86_64-linux-gnu'
    : fs.existsSync('/usr/lib/aarch64-linux-gnu/libtorch_cpu.so') ? '/usr/lib/aarch64-linux-gnu' : '/usr/lib';
  return { include, api: path.join(include, 'torch', 'csrc', 'api', 'include'), lib: multiarch, system: true };
}

function has(loc, name) { return fs.existsSync(path.join(loc.lib, `lib${name}.so`)); }

/** PyTorch wheels before 2.6 use the pre-C++11 string ABI; match whatever libc10 was built with. */
function cxx11Abi(loc) {
  if (process.env.LIBTORCH_CXX11_ABI) return process.env.LIBTORCH_CXX11_ABI;
  try {
    const out = execFileSync('nm', ['-DC', path.join(loc.lib, 'libc10.so')], { encoding: 'utf8', maxBuffer: 1 << 28 });
    return out.includes('std::__cxx11::') ? '1' : '0';
  } catch { return '1'; }
}

/** The libtorch version ([major, minor]) from its version header (torch/version.h; PyTorch 2.11 keeps it
 * elsewhere in include/) or, in a PyTorch install, its version.py; [0, 0] when neither says. */
function torchVersion(loc) {
  const headers = [path.join(loc.api, 'torch', 'version.h'), path.join(loc.include, 'torch', 'version.h'),
    path.join(loc.include, 'torch', 'headeronly', 'version.h')];
  for (const file of headers) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const major = /TORCH_VERSION_MAJOR\s+(\d+)/.exec(text);
    const minor = /TORCH_VERSION_MINOR\s+(\d+)/.exec(text);
    if (major && minor) return [Number(major[1]), Number(minor[1])];
  }
  const script = path.join(loc.include, '..', 'version.py');
  const found = fs.existsSync(script) && /__version__\s*=\s*'(\d+)\.(\d+)/.exec(fs.readFileSync(script, 'utf8'));
  return found ? [Number(found[1]), Number(found[2])] : [0, 0];
}

/** The C++ standard libtorch's headers need: C++20 from PyTorch 2.11 (built as C++20; ATen's headers refuse
 * anything older from 2.13), C++17 before (1.13's headers do not compile as C++20 everywhere). */
function cxxStandard(loc) {
  const [major, minor] = torchVersion(loc);
  return major > 2 || (major === 2 && minor >= 11) ? 'c++20' : 'c++17';
}

const loc = locate();
const what = process.argv[2];
/** c10d's Gloo needs gloo's headers (Debian: libgloo-dev; PyTorch installs may ship them in include/). */
function glooInclude(loc) {
  return [loc.include, '/usr/include'].find((dir) => fs.existsSync(path.join(dir, 'gloo', 'config.h')));
}

/** The folders of the nvidia-* wheels beside a PyTorch install (site-packages/nvidia/<name>/include). */
function nvidiaWheelIncludes(loc) {
  const root = path.join(loc.include, '..', '..', 'nvidia');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).map((name) => path.join(root, name, 'include')).filter((dir) => fs.existsSync(dir));
}

/** The first folder holding `header`: this libtorch's, the nvidia wheels', the CUDA toolkit's, the system's. */
function findInclude(loc, header) {
  const toolkit = process.env.CUDA_HOME ? [path.join(process.env.CUDA_HOME, 'include')] : [];
  const candidates = [loc.include, ...nvidiaWheelIncludes(loc), ...toolkit, '/usr/local/cuda/include', '/usr/include'];
  return candidates.find((dir) => fs.existsSync(path.join(dir, header)));
}

/**
 * c10d's NCCL needs nccl.h (the CUDA toolkit, or the nvidia-nccl wheel beside a PyTorch install) and
 * the CUDA driver API's cuda.h, which ATen's CUDA headers include (a PyTorch wheel without the CUDA
 * toolkit may lack it: then no NCCL, as on an H200 with PyTorch 2.11.0+cu130, 2026-12-04).
 */
function ncclIncludes(loc) {
  if (!has(loc, 'torch_cuda') || !fs.existsSync(path.join(loc.include, 'torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupNCCL.hpp'))) return undefined;
  const nccl = findInclude(loc, 'nccl.h');
  const cuda = findInclude(loc, 'cuda.h');
  return nccl && cuda ? [nccl, cuda] : undefined;
}

if (what === 'includes') {
  const dirs = [loc.include, loc.api];
  const gloo = glooInclude(loc);
  if (gloo && !dirs.includes(gloo)) dirs.push(gloo);
  for (const dir of ncclIncludes(loc) ?? []) if (!dirs.includes(dir)) dirs.push(dir);
  console.log(dirs.join(' '));
} else if (what === 'libs') {
  const libs = ['-Wl,--no-as-needed', `-L${loc.lib}`];
  if (!loc.system) libs.push(`-Wl,-rpath,${loc.lib}`);
  for (const name of ['torch', 'torch_cpu', 'c10', 'torch_cuda', 'c10_cuda']) if (has(loc, name)) libs.push(`-l${name}`);
  libs.push('-Wl,--as-needed');
  console.log(libs.join(' '));
} else if (what === 'defines') {
  const defs = [`_GLIBCXX_USE_CXX11_ABI=${cxx11Abi(loc)}`];
  if (has(loc, 'torch_cuda')) defs.push('SELFSUP_WITH_CUDA=1');
  if (glooInclude(loc)) defs.push('USE_C10D_GLOO=1');
  if (ncclIncludes(loc)) defs.push('USE_C10D_NCCL=1', 'SELFSUP_WITH_NCCL=1');
  console.log(defs.join(' '));
} else if (what === 'std') {
  console.log(`-std=${cxxStandard(loc)}`);
} else {
  console.log(JSON.stringify({ ...loc, version: torchVersion(loc).join('.'), std: cxxStandard(loc) }));
}
