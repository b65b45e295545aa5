#!/usr/bin/env bash
# Captures request frames from kcat, kafka-python and confluent-kafka into
# broker/kafka/testdata/captured/ (see capture.py). Usage: run_clients.sh [PORT]
set -uo pipefail
cd "$(dirname "$0")/../.."
port=${1:-19092}
out=broker/kafka/testdata/captured
mkdir -p "$out"
/usr/bin/python3 tools/kafka_capture/capture.py "$port" "$out" &
capture_pid=$!
trap 'kill $capture_pid' EXIT
sleep 1
b=127.0.0.1:$port
# Values repeat so that every codec shrinks them: clients send a batch
# uncompressed when compressing does not make it smaller.
one=$(printf 'value one %.0s' $(seq 20))
two=$(printf 'value two %.0s' $(seq 20))
for codec in none gzip snappy lz4 zstd; do
  printf 'key-1:%s\nkey-2:%s\n:no key\n' "$one" "$two" |
    timeout 10 kcat -b "$b" -P -t test -p 0 -K: -H trace=abc -z "$codec" \
      -X client.id=kcat-$codec -X message.timeout.ms=5000
done
printf 'idem-1\nidem-2\n' | timeout 10 kcat -b "$b" -P -t test -p 0 \
  -X enable.idempotence=true -X client.id=kcat-idempotent -X message.timeout.ms=5000
timeout 5 kcat -b "$b" -C -t test -p 0 -o 0 -e -X client.id=kcat-consumer
timeout 6 kcat -b "$b" -G kgroup test -X client.id=kcat-group
timeout 25 /usr/bin/python3 tools/kafka_capture/clients.py "$b" kafka-python
timeout 30 /usr/bin/python3 tools/kafka_capture/clients.py "$b" confluent
# kafkajs (npm, not a Debian package): run when NODE_PATH finds it, e.g.
# `npm install --prefix /tmp/kjs kafkajs@2.2.4; NODE_PATH=/tmp/kjs/node_modules`.
if node -e "require('kafkajs')" 2>/dev/null; then
  timeout 60 node tools/kafka_capture/kafkajs_clients.js "$b" capture
else
  echo "kafkajs not found on NODE_PATH: skipped"
fi
ls "$out"
