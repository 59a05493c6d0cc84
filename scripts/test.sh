#!/usr/bin/env bash
# The suite after the build (npm test), in two lanes over the machine's cores:
# - the training-quality and collapse tests, whose recipes and margins were calibrated at the
#   default thread count (the numerics of a run depend on it), one file at a time with every thread;
# - the rest, mostly short and bound by process start-up, disk and single-threaded work, two files
#   at a time with one engine thread each (about 30% less wall time than one at a time).
# Both lanes always run; the exit status is the first failure's. Node runs with tcmalloc preloaded, as
# the selfsup command and the benchmarks do (bin/node-with-tcmalloc: about 4% off a training step).
set -uo pipefail
cd "$(dirname "$0")/.."
node=bin/node-with-tcmalloc
calibrated=(dist/test/methodQuality.test.js dist/test/methods.test.js dist/test/tokenizer.test.js)
rest=()
for f in dist/test/*.test.js; do
  [[ " ${calibrated[*]} " == *" $f "* ]] || rest+=("$f")
done
status=0
$node --test --test-concurrency=1 "${calibrated[@]}" || status=$?
SELFSUP_NUM_THREADS=1 $node --test --test-concurrency=2 "${rest[@]}" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
exit "$status"
