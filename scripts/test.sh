#!/usr/bin/env bash
# The suite after the build (npm test): every test file, two at a time with one engine thread each
# (on 2 cores about 30% less wall time than one file at a time with two threads: a second thread
# speeds a small ResNet's step up by a fifth only, a ViT's by four fifths). The training-quality,
# collapse and tokenizer tests and the CLI's matrix of every method and size start first, longest
# first, so that the two lanes end together; the quality tests' recipes and margins were calibrated
# at one thread (a run's numerics depend on the thread count; `npm run bench -- quality` chooses
# them so). Node runs with tcmalloc preloaded, as the selfsup command and the benchmarks do
# (bin/node-with-tcmalloc: about 4% off a training step).
set -uo pipefail
cd "$(dirname "$0")/.."
first=(dist/test/methodQuality.test.js dist/test/maeBeitQuality.test.js dist/test/maskedQuality.test.js
  dist/test/distillationQuality.test.js dist/test/photos.test.js dist/test/tokenizer.test.js dist/test/methods.test.js)
files=("${first[@]}")
for f in dist/test/*.test.js; do
  [[ " ${first[*]} " == *" $f "* ]] || files+=("$f")
done
SELFSUP_NUM_THREADS=1 exec bin/node-with-tcmalloc --test --test-concurrency=2 "${files[@]}"
