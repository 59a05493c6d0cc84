#!/usr/bin/env bash
# Packs what bench/gpu-check.sh needs on a GPU machine that has PyTorch but no Node, into
# bench/.gpu/ (git-ignored): an xz-compressed copy of this machine's node binary (a
# self-contained build: it needs only libc), Node-API's headers, the npm packages the engine
# tests and the benchmark load (node-addon-api to build; sharp and its libvips for the data
# layer), and the compiled TypeScript (dist/). Carry bench/.gpu with the tree, then run
# `bash bench/gpu-check.sh` there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/.gpu
rm -rf "$out" && mkdir -p "$out/node-include"
node_bin=$(readlink -f "$(command -v node)")
if ldd "$node_bin" | grep -q libnode; then
  echo "gpu-pack: $node_bin links libnode.so: use a self-contained Node build (nodejs.org's)" >&2
  exit 1
fi
xz -T0 -6 -c "$node_bin" > "$out/node.xz"
nodedir=${npm_config_nodedir:-/usr}
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do cp "$nodedir/include/node/$h" "$out/node-include/"; done
npx tsc -p tsconfig.json
tar -cJf "$out/packages.tar.xz" node_modules/node-addon-api node_modules/sharp node_modules/@img node_modules/detect-libc node_modules/semver dist
du -sh "$out"/*
echo "gpu-pack: ready; carry bench/.gpu and run: bash bench/gpu-check.sh"
