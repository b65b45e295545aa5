#!/usr/bin/env bash
# Starts codec_server, then: kcat produces with each compression codec and
# consumes everything back; kafka-python produces and consumes; a kcat
# consumer group joins, syncs and commits. Fails on any client error or a
# missing/extra message.
set -euo pipefail
server=$1
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
"$server" "$tmp/port" 2>"$tmp/server.log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -s "$tmp/port" ]] && break; sleep 0.1; done
b=127.0.0.1:$(cat "$tmp/port")

expected=()
for codec in none gzip snappy lz4 zstd; do
  lines=()
  for i in 1 2 3; do lines+=("$codec-$i $(printf 'payload %.0s' $(seq 30))"); done
  printf '%s\n' "${lines[@]}" |
    timeout 20 kcat -b "$b" -P -t test -p 0 -z "$codec" -X message.timeout.ms=10000 -X api.version.request=true
  expected+=("${lines[@]}")
done
printf 'idem-1\nidem-2\n' |
  timeout 20 kcat -b "$b" -P -t test -p 0 -X enable.idempotence=true -X message.timeout.ms=10000
expected+=("idem-1" "idem-2")

timeout 20 kcat -b "$b" -C -t test -p 0 -o beginning -e -q > "$tmp/consumed.txt"
printf '%s\n' "${expected[@]}" > "$tmp/expected.txt"
if ! diff "$tmp/expected.txt" "$tmp/consumed.txt"; then
  echo "kcat consumed something else than was produced" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi

# Group consumer: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, Fetch,
# OffsetCommit; stops after reading the 17 messages.
timeout 30 kcat -b "$b" -G kgroup -o beginning -c 17 -q -X auto.offset.reset=earliest test > "$tmp/group.txt"
if [[ $(wc -l < "$tmp/group.txt") -ne 17 ]]; then
  echo "group consumer read $(wc -l < "$tmp/group.txt") messages" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi

timeout 40 /usr/bin/python3 "$(dirname "$0")/clients_roundtrip.py" "$b"
# kafkajs (non-flexible versions only) when installed: see run_clients.sh.
export NODE_PATH="${NODE_PATH:-}:/usr/lib/node_modules:/usr/local/lib/node_modules"
if node -e "require('kafkajs')" 2>/dev/null; then
  timeout 60 node "$(dirname "$0")/kafkajs_clients.js" "$b" roundtrip
else
  echo "kafkajs not installed: its round trip was skipped"
fi
if grep -q "codec_server:" "$tmp/server.log"; then
  echo "server complained:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
echo "clients_test: ok"
