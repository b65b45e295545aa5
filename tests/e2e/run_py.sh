#!/bin/sh
# Runs one end-to-end suite under Debian's /usr/bin/python3 (which has
# kafka-python and confluent-kafka), with the broker binary from the data
# dependency. Usage: run_py.sh BROKER_BINARY SUITE.py [unittest args...]
set -eu
CHRONIK_SERVER="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
export CHRONIK_SERVER
suite="$2"
shift 2
PYTHONPATH="$(cd "$(dirname "$suite")" && pwd)"
export PYTHONPATH
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -u "$suite" "$@"
