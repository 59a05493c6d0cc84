#!/usr/bin/env bash
# Idempotent setup of a machine for selfsup: system packages (Debian), npm packages,
# the native addon and the TypeScript build. Safe to run again: each step is skipped
# when its result is already there and up to date.
#
#   LIBTORCH=<folder>  build against that libtorch (a libtorch distribution or a PyTorch
#                      install's torch/ folder, e.g. for CUDA) instead of Debian's libtorch-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# 1. System packages. libopenblas0-openmp matters: without it libtorch's matrix products fall
#    back to the reference BLAS (a ViT-Tiny step about 30x slower). python3-torch(vision) and
#    tcmalloc serve the benchmark peer in bench/peers/; libgloo-dev the distributed backend;
#    dataset-fashion-mnist is a real data set on every machine (`--data fashion-mnist`); python3-onnx
#    checks the exported ONNX graphs in the tests; chromium runs the dashboard's tests (headless).
packages=(libopenblas0-openmp libgloo-dev python3-torch python3-torchvision libtcmalloc-minimal4 dataset-fashion-mnist python3-onnx chromium)
[ -z "${LIBTORCH:-}" ] && packages=(libtorch-dev "${packages[@]}")
if command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
      echo "setup: missing Debian packages ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
elif [ -z "${LIBTORCH:-}" ]; then
  echo "setup: not a Debian system: set LIBTORCH to a libtorch folder (see docs/distributed-and-gpu.md, "Another libtorch")" >&2
  exit 1
fi

# 2. npm packages, exactly as locked.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  # onnxruntime-node (the tests' ONNX runtime) would fetch CUDA providers in its postinstall: its CPU
  # binaries ship in the package, so the download is skipped.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

# 3. The native addon, against this machine's Node headers (no download) where it has them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi
#    Reconfigured when LIBTORCH or binding.gyp changes, rebuilt (incrementally) when a source changed.
addon=native/build/Release/selfsup.node
stamp=native/build/libtorch.txt
want="${LIBTORCH:-debian}"
if [ ! -f native/build/Makefile ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ native/binding.gyp -nt native/build/Makefile ]; then
  say "configuring the addon against libtorch: $want"
  (cd native && npx --no-install node-gyp configure)
  echo "$want" >"$stamp"
  rm -f "$addon"  # built against the previous libtorch: rebuild
fi
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp -newer "$addon" -print -quit)" ]; then
  say "building the addon (about a minute on 2 cores)"
  (cd native && npx --no-install node-gyp build -j "$(nproc)")
fi

# 4. TypeScript, and the dashboard's page (Vite, into dist/dashboard).
npx --no-install tsc -p tsconfig.json
npx --no-install tsc --noEmit -p dashboard
npx --no-install vite build --config dashboard/vite.config.mjs
say "ready"
