#!/usr/bin/env bash
# Runs the clang libFuzzer build of FuzzOneInput (fuzz_target.h) for a fixed
# number of runs from a fixed seed, starting from the captured client frames
# and record batches. New inputs go to a scratch corpus under TEST_TMPDIR.
# Usage: libfuzzer_test.sh FUZZER SEED_DIR...
set -euo pipefail
fuzzer=$1
shift
corpus="${TEST_TMPDIR:-/tmp}/corpus"
mkdir -p "$corpus"
"$fuzzer" -runs=100000 -seed=1 -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" "$@"
