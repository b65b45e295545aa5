#!/bin/sh
# Runs tools/bench/run --quick and checks that it printed the line of every
# figure (a smoke test: no thresholds). Usage: run_quick_test.sh RUN SERVER LOAD
set -eu
out="$(/usr/bin/python3 "$1" --quick --server="$2" --load="$3")"
echo "$out"
for figure in a b c d e f; do
  if ! echo "$out" | grep -q "^($figure) "; then
    echo "FAIL: no line for figure ($figure)" >&2
    exit 1
  fi
done
echo "$out" | grep -q "^bench done" || { echo "FAIL: no end line" >&2; exit 1; }
