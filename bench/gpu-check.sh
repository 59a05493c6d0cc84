#!/usr/bin/env bash
# The GPU path, checked on a machine with an NVIDIA GPU and PyTorch 2.x but no Node, in about 6
# minutes: builds the addon against that PyTorch's libtorch (LIBTORCH = its torch/ folder), runs
# the engine tests on the CPU and on cuda (SELFSUP_DEVICE=cuda: every tensor the tests create
# lands on the GPU), then the models benchmark (ResNet-18, ViT-Tiny/4, ViT-Tiny/4 on 25% of the
# tokens; float32 and bfloat16 autocast) against the same modules in that PyTorch on the same GPU.
# Prepare on a machine with Node: `bash bench/gpu-pack.sh`, then carry bench/.gpu with the tree.
#   PYTHON=python3 (with torch)  JOBS=<compile jobs>  THREADS=<CPU threads for the CPU tests>
#   TESTS="engine precision" (the test files to run; all engine tests by default)  CPU_TESTS=0 (cuda only)
#   ROUND_SECONDS=1 ROUNDS=2 (the benchmark's rounds: about 2 minutes in all on an H200)
set -uo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
say() { printf '\n== gpu-check %ss: %s\n' "$((SECONDS - started))" "$*"; }
status=0
# step <name> <filter regex> <command...>: runs it, shows the lines of its output matching the filter
# (all of them with '.') as they come, and records a failure.
step() {
  local name=$1 filter=$2; shift 2
  local log="$work/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log"
  "$@" 2>&1 | tee "$log" | grep --line-buffered -E "$filter" | awk 'NR <= 80 { print; fflush() }'
  local rc=${PIPESTATUS[0]}
  if ((rc != 0)); then echo "gpu-check: FAILED ($rc): $name (whole output: $log)"; status=1; fi
}

PY=$(command -v "${PYTHON:-python3}") || { echo "gpu-check: ${PYTHON:-python3} not found"; exit 2; }
work=${TMPDIR:-/tmp}/selfsup-gpu-check
rm -rf "$work" && mkdir -p "$work"

say "node"
if command -v node >/dev/null && node -v | grep -q '^v2[0-9]'; then
  NODE=$(command -v node)
else
  [ -f bench/.gpu/node.xz ] || { echo "gpu-check: no Node here and no bench/.gpu/node.xz (run bash bench/gpu-pack.sh where Node is)"; exit 2; }
  xz -dc bench/.gpu/node.xz > "$work/node" && chmod +x "$work/node"
  NODE="$work/node"
  export PATH="$work:$PATH"
fi
"$NODE" -v
[ -f bench/.gpu/packages.tar.xz ] && tar -xJf bench/.gpu/packages.tar.xz

say "PyTorch"
LIBTORCH=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))') || { echo "gpu-check: $PY has no torch"; exit 2; }
export LIBTORCH
"$PY" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
command -v g++ >/dev/null || { echo "gpu-check: g++ is needed to build the addon"; exit 2; }

say "building the addon against $LIBTORCH"
includes=$(cd native && "$NODE" libtorch.cjs includes) && defines=$(cd native && "$NODE" libtorch.cjs defines) && libs=$(cd native && "$NODE" libtorch.cjs libs) &&
  std=$(cd native && "$NODE" libtorch.cjs std) || exit 2
echo "defines: $defines; standard: $std"
flags=("$std" -O2 -fPIC -fexceptions -frtti -Wno-deprecated-declarations -Wno-unused-parameter
  -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
  -Ibench/.gpu/node-include -Inode_modules/node-addon-api -Inative/src)
for i in $includes; do flags+=("-I$i"); done
for d in $defines; do flags+=("-D$d"); done
mkdir -p native/build/gpu native/build/Release
compile() {  # source -> object; distributed.cc falls back to Gloo only when c10d NCCL does not build,
  # and to no process group when c10d does not build at all (the rest is still checked; it is a failure)
  local src=$1 obj=native/build/gpu/$(basename "$1" .cc).o
  if ! g++ "${flags[@]}" -c "$src" -o "$obj" 2>"$obj.log"; then
    if [[ $src == *distributed.cc ]] && g++ "${flags[@]}" -USELFSUP_WITH_NCCL -UUSE_C10D_NCCL -c "$src" -o "$obj" 2>>"$obj.log"; then
      grep -m 10 'error' "$obj.log"
      echo "gpu-check: c10d NCCL did not build (above; whole log: $obj.log); distributed is Gloo only"
    elif [[ $src == *distributed.cc ]] && g++ "${flags[@]}" -USELFSUP_WITH_NCCL -UUSE_C10D_NCCL -UUSE_C10D_GLOO -c "$src" -o "$obj" 2>>"$obj.log"; then
      grep -m 20 'error' "$obj.log"
      echo "gpu-check: FAILED: c10d did not build against this libtorch (above); the addon is built without distributed"
      touch "$work/c10d-failed"
    else
      grep -m 40 -B2 -A3 'error' "$obj.log"; return 1
    fi
  fi
}
pids=()
for src in native/src/*.cc native/src/ops/*.cc native/src/runtime/*.cc; do
  compile "$src" & pids+=($!)
  while (( $(jobs -rp | wc -l) >= ${JOBS:-$(nproc)} )); do sleep 0.2; done
done
built=0
for p in "${pids[@]}"; do wait "$p" || built=1; done
(( built == 0 )) || { echo "gpu-check: the addon did not compile"; exit 1; }
g++ -shared -o native/build/Release/selfsup.node native/build/gpu/*.o $libs || exit 1
SELFSUP_DEVICE=cuda "$NODE" -e "import('./dist/src/tensor/index.js').then((t) => console.log(JSON.stringify(t.engineInfo())))" || status=1

read -ra tests <<<"${TESTS:-engine creation ops autograd grad nn losses resnet vit optim methods distributed precision}"
files=(); for t in "${tests[@]}"; do files+=("dist/test/$t.test.js"); done
# a failing subtest's name and its error with the lines after it (a multi-line assertion message)
summary='^# (tests|pass|fail)|^ *not ok|error:|^ +(actual|expected|operator|message):|^ +\+|^ +-'
if [ "${CPU_TESTS:-1}" != 0 ]; then
  say "engine tests on the CPU (this libtorch)"
  step "CPU tests" "$summary" timeout -k 5 150 env SELFSUP_NUM_THREADS="${THREADS:-8}" "$NODE" --test --test-concurrency=1 "${files[@]}"
fi
say "engine tests on cuda"
step "cuda tests" "$summary" timeout -k 5 150 env SELFSUP_DEVICE=cuda SELFSUP_NUM_THREADS="${THREADS:-8}" "$NODE" --test --test-concurrency=1 "${files[@]}"

say "models benchmark on cuda against PyTorch at its best (its fp32, channels_last, bf16 modes; ours default and fp32)"
# -k: a run that ignores the TERM (blocked in a peer's CUDA start) is killed 5 s later
step "benchmark" . timeout -k 5 200 env SELFSUP_PEER_PYTHON="$PY" "$NODE" dist/bench/run.js models --device cuda \
  --batch 256 --steps 10 --warmup 3 --rounds "${ROUNDS:-2}" --min-round-seconds "${ROUND_SECONDS:-1}" --threads "${THREADS:-8}"
[ -f "$work/c10d-failed" ] && status=1
say "done (status $status)"
exit $status
