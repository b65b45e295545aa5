#!/usr/bin/env bash
# Runs the determinism guard on the real source tree (found by following this test's
# runfile symlink back to the checkout; the test is tagged "external" so it always runs),
# and shows the guard can fail: a scratch tree with one violation per banned kind must
# produce one finding per kind, and the allow marker and comments must not.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
guard="$here/guard.py"
root=$(dirname "$(dirname "$here")")

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/raft" "$scratch/sim" "$scratch/broker/runtime" "$scratch/tools"
cat > "$scratch/raft/bad.cc" <<'CC'
auto a = std::chrono::steady_clock::now();
auto b = absl::Now();
long c = time(nullptr);
void d() { usleep(10); }
std::thread e;
int f = rand();
absl::BitGen g;
std::ifstream h("x");
int i = socket(1, 2, 3);
grpc::Status j;
const char* k = getenv("HOME");
CC
cat > "$scratch/sim/fine.cc" <<'CC'
// std::thread and absl::Now() named in a comment are fine.
/* so is time(nullptr)
   in a block comment */
int runtime(int x);  // a name ending in "time(" is not the C clock
auto t = clock_.Now();  // a member clock
int q = usleep(1);  // determinism-ok: proving the marker works
CC
cat > "$scratch/broker/runtime/real.cc" <<'CC'
std::thread allowed_in_runtime;
CC
out=$(python3 "$guard" "$scratch" || true)
count=$(grep -c ': ' <<<"$(grep '^raft/bad.cc' <<<"$out")" || true)
if [[ "$count" != 11 ]]; then
  echo "FAIL: expected 11 findings in raft/bad.cc, got $count:"; echo "$out"; exit 1
fi
if grep -qE '^(sim/fine.cc|broker/runtime/)' <<<"$out"; then
  echo "FAIL: false positive:"; echo "$out"; exit 1
fi
echo "self-test: guard finds each banned kind and nothing else"

python3 "$guard" "$root"
