#!/bin/bash
# The tools:sim command line as a user runs it: clear errors for bad arguments (exit 2),
# a header/verdict/trace_hash report, --trace with --until, a range summary with the
# replay command of each failure, and --shrink printing a replay command that fails
# again the same way.
set -uo pipefail
SIM="$1"
fail() { echo "FAIL: $*"; exit 1; }

expect_error() {  # expect_error <message part> <args...>
  local want="$1"; shift
  out=$("$SIM" "$@" 2>&1); code=$?
  [[ $code -eq 2 ]] || fail "$* exited $code, want 2 ($out)"
  [[ "$out" == *"$want"* ]] || fail "$*: '$out' lacks '$want'"
}
expect_error "give --seed=N"
expect_error "not a seed" --seed=abc
expect_error "A <= B" --seeds=5..2
expect_error "unknown bug" --seed=1 --bug=nope
expect_error "3 or 5" --seed=1 --nodes=4
expect_error "unknown scenario" --seed=1 --scenario=kafka
expect_error "unknown fault kind" --seed=1 --schedule=meteor@1:0:-1:0:0
expect_error "--until needs --trace" --seed=1 --until=role
expect_error "either --seed or --seeds" --seed=1 --seeds=1..2

short=(--seconds=10 --fault_seconds=4)
out=$("$SIM" --seed=7 "${short[@]}" --commit=abc) || fail "seed 7 failed: $out"
for want in "seed=7" "commit=abc" "faults: " "verdict: PASS" "events=" "simulated=" \
            "wall=" "trace_hash="; do
  [[ "$out" == *"$want"* ]] || fail "report lacks '$want': $out"
done

out=$("$SIM" --seed=7 "${short[@]}" --trace --until=role) || fail "trace failed"
[[ "$out" == *"verdict: STOPPED"* ]] || fail "--until did not stop: $out"
[[ "$(grep -c ' role ' <<<"$out")" == 1 ]] || fail "--until=role should end at the first role event"

out=$("$SIM" --seeds=1..3 "${short[@]}" --bug=apply_before_commit); code=$?
[[ $code -eq 1 ]] || fail "a failing range should exit 1"
[[ "$out" == *"0 passed, 3 failed"* ]] || fail "range summary: $out"
[[ "$out" == *"replay: bazel run -c opt //tools:sim -- --scenario=raft --seed=2"* ]] ||
  fail "range lacks replay commands: $out"

one=$("$SIM" --seeds=1..4 "${short[@]}" --bug=grant_two_votes --jobs=1 | grep -v '^[0-9]* passed')
two=$("$SIM" --seeds=1..4 "${short[@]}" --bug=grant_two_votes --jobs=2 | grep -v '^[0-9]* passed')
[[ "$one" == "$two" ]] || fail "--jobs=2 reports differently from --jobs=1: $one / $two"

out=$("$SIM" --seed=2 "${short[@]}" --bug=apply_before_commit --shrink 2>/dev/null)
replay=$(sed -n 's/^replay: bazel run -c opt \/\/tools:sim -- //p' <<<"$out")
[[ -n "$replay" ]] || fail "shrink printed no replay command: $out"
eval "again=\$(\"\$SIM\" $replay)"
[[ "$again" == *"verdict: FAIL"* ]] || fail "the shrunk replay does not fail: $again"

# The broker scenario's --schedule and workload flags.
expect_error "unknown broker fault kind" --scenario=broker --seed=1 --schedule=meteor@1:1:0:1:0
expect_error "not in 1..3" --scenario=broker --seed=1 --schedule=pause@1000:7:0:1000:0
expect_error "after the fault phase" --scenario=broker --seed=1 --schedule=pause@30000000:1:0:1000:0
expect_error "--producers" --scenario=broker --seed=1 --producers=0
expect_error "one --seed" --scenario=broker --seeds=1..2 --shrink
out=$("$SIM" --scenario=broker --seed=1 --schedule='pause@2000000:2:0:500000:0' \
  --producers=1 --group_members=0 --partitions=1) || fail "broker --schedule run failed: $out"
[[ "$out" == *"fault plan (1):"*"2.000000s pause n2, for 0.500000s"* ]] ||
  fail "the broker run does not follow --schedule: $out"
echo PASS
