#!/bin/bash
# //tools:timeline_chromium_test: the broker scenario's --timeline page as a
# browser shows it. Writes the page of a passing seed and of a seed that an
# injected bug (ack_before_commit) makes fail, opens each in headless Chromium
# (Debian's `chromium`, installed by tools/setup; the test fails without it)
# and reads the DOM after the page's script ran: a lane per broker (n1..n3,
# data-lane attributes that exist only once the script has drawn them), the
# world's fault lane, client lanes, and for the failing seed the first anomaly
# marked with the failure's text.
set -uo pipefail
SIM="$1"
fail() { echo "FAIL: $*"; exit 1; }

CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
  fail "chromium not found: run tools/setup (it installs Debian's chromium)"
export HOME="$TEST_TMPDIR/home"
mkdir -p "$HOME"

dump_dom() {  # dump_dom <page> <out>
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$TEST_TMPDIR/chromium-profile" \
    --dump-dom "file://$1" >"$2" 2>"$TEST_TMPDIR/chromium.log" ||
    { tail -20 "$TEST_TMPDIR/chromium.log"; fail "chromium could not open $1"; }
}

# A passing seed.
page="$TEST_TMPDIR/pass.html"
out=$("$SIM" --scenario=broker --seed=1 --timeline="$page" 2>&1) ||
  fail "seed 1 should pass: $out"
[[ -s "$page" ]] || fail "no page written: $out"
[[ "$out" == *"timeline: $page"* ]] || fail "the run does not name the page: $out"
# The lanes come from the script, not from the file itself.
if grep -q 'data-lane="' "$page"; then fail "lanes in the static page"; fi
dom="$TEST_TMPDIR/pass.dom"
dump_dom "$page" "$dom"
for lane in n1 n2 n3 world c1; do
  grep -q "data-lane=\"$lane\"" "$dom" || fail "no lane $lane in the DOM"
done
if grep -q 'data-lane="n4"' "$dom"; then fail "a lane for a fourth broker"; fi
grep -q 'data-mark="start"' "$dom" || fail "no broker start marks"
if grep -q 'data-anomaly="' "$dom"; then fail "a passing seed marks an anomaly"; fi
grep -q '>PASS<' "$dom" || fail "the verdict PASS is not shown"

# A failing seed: the first seed of a range that the injected bug makes fail.
range=$("$SIM" --scenario=broker --seeds=1..20 --jobs=2 --bug=ack_before_commit 2>/dev/null)
seed=$(echo "$range" | sed -n 's/^  seed \([0-9]*\): .*/\1/p' | head -1)
[[ -n "$seed" ]] || fail "ack_before_commit failed no seed in 1..20: $range"
failure=$(echo "$range" | sed -n "s/^  seed $seed: //p")
page="$TEST_TMPDIR/fail.html"
"$SIM" --scenario=broker --seed="$seed" --bug=ack_before_commit \
  --timeline="$page" >"$TEST_TMPDIR/fail.out" 2>&1
[[ $? -eq 1 ]] || fail "seed $seed with the bug should fail"
dom="$TEST_TMPDIR/fail.dom"
dump_dom "$page" "$dom"
for lane in n1 n2 n3 world; do
  grep -q "data-lane=\"$lane\"" "$dom" || fail "no lane $lane (seed $seed)"
done
rule=${failure%%:*}
grep -q "class=\"anomaly\" data-anomaly=\"$rule" "$dom" ||
  fail "no anomaly mark starting with '$rule' (seed $seed, $failure)"
grep -q "id=\"anomaly\"" "$dom" || fail "no anomaly banner (seed $seed)"
echo "PASS (failing seed $seed: $failure)"
