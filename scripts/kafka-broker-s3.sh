#!/usr/bin/env bash
# Starts or stops a local Kafka-protocol broker (Tansu) whose data survives a broker restart:
# Tansu keeps its data in S3, served on loopback by moto's S3 emulator (PyPI `moto[server]`).
#
#   scripts/kafka-broker-s3.sh start [PORT]  # default 19093; starts moto (once) and Tansu, prints the export line
#   scripts/kafka-broker-s3.sh restart       # SIGKILLs Tansu only, starts it again on the same port and bucket
#   scripts/kafka-broker-s3.sh stop          # stops Tansu and moto (the data is gone then)
#   scripts/kafka-broker-s3.sh status
#
# Tansu comes from `cargo install tansu --locked --version 0.6.0 --features dynostore`; set
# TANSU to use another binary. moto comes from `pip install 'moto[server]'` into $PYTHON
# (default python3). The emulator listens on S3_PORT (default: Tansu's port + 400) and
# keeps the objects in its own memory, so the data lives as long as the moto process, across
# any number of Tansu restarts. State (pids, ports, logs) lives in $KAFKA_BROKER_DIR (default
# target/kafka-broker-s3).
set -euo pipefail

cmd=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${KAFKA_BROKER_DIR:-$root/target/kafka-broker-s3}
tansu=${TANSU:-$(command -v tansu || echo "$HOME/.cargo/bin/tansu")}
python=${PYTHON:-python3}
bucket=${S3_BUCKET:-tansu}
pidfile=$dir/tansu.pid
portfile=$dir/tansu.port
log=$dir/tansu.log
s3pidfile=$dir/moto.pid
s3portfile=$dir/moto.port
s3log=$dir/moto.log

running() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

alive() { # true while the process exists and is not a zombie
  kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

accepts() {
  # bash's /dev/tcp: true once something accepts connections on the port.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_pid() { # pidfile name signal
  local pid
  if running "$1"; then
    pid=$(cat "$1")
    kill "-$3" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
      sleep 0.1
    fi
    echo "$2 stopped (pid $pid)"
  else
    echo "$2 not running"
  fi
  rm -f "$1"
}

start_s3() {
  local s3port=$1
  if running "$s3pidfile"; then
    return 0
  fi
  if ! "$python" -c 'import moto.server, flask' 2>/dev/null; then
    echo "moto's S3 server not importable by $python: $python -m pip install 'moto[server]'" >&2
    exit 1
  fi
  if accepts "$s3port"; then
    echo "S3 port $s3port is already in use; set S3_PORT to another" >&2
    exit 1
  fi
  # moto lists objects with LastModified cut to whole seconds (as real S3 does), and Tansu 0.6.0's
  # ListOffsets(latest) picks the batch object with the newest LastModified: with ties every
  # batch written in the same second, the high watermark comes back wrong (stuck at 1). So the
  # emulator runs with microsecond LastModified in its listings.
  nohup "$python" -c '
import sys
from moto.core.serialize import TimestampSerializer
from moto.s3 import models
from moto.server import main
models.FakeKey.last_modified_ISO8601 = property(
    lambda self: self.last_modified.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
TimestampSerializer._timestamp_iso8601_zeroed = (
    lambda self, value: value.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
sys.exit(main(sys.argv[1:]))
' -H 127.0.0.1 -p "$s3port" >"$s3log" 2>&1 </dev/null &
  echo $! >"$s3pidfile"
  echo "$s3port" >"$s3portfile"
  for _ in $(seq 1 300); do
    # The bucket must exist before Tansu starts: create it (PUT /bucket) once moto answers.
    if curl -sf -o /dev/null -X PUT "http://127.0.0.1:$s3port/$bucket" 2>/dev/null; then
      echo "moto S3 emulator on http://127.0.0.1:$s3port, bucket $bucket (pid $(cat "$s3pidfile"), log $s3log)"
      return 0
    fi
    if ! running "$s3pidfile"; then
      echo "moto_server exited during start-up; its log ($s3log):" >&2
      tail -n 30 "$s3log" >&2 || true
      rm -f "$s3pidfile"
      exit 1
    fi
    sleep 0.1
  done
  echo "moto_server did not answer on port $s3port within 30 s; log: $s3log" >&2
  stop_pid "$s3pidfile" moto TERM >/dev/null
  exit 1
}

start_tansu() {
  local port=$1 s3port
  s3port=$(cat "$s3portfile")
  if [[ ! -x $tansu ]]; then
    echo "tansu not found (looked at $tansu): cargo install tansu --locked --version 0.6.0 --features dynostore" >&2
    exit 1
  fi
  if accepts "$port"; then
    echo "port $port is already in use; pass another: $0 start PORT" >&2
    exit 1
  fi
  # object_store's AmazonS3Builder::from_env reads these.
  AWS_ENDPOINT="http://127.0.0.1:$s3port" \
  AWS_ALLOW_HTTP=true \
  AWS_ACCESS_KEY_ID=test \
  AWS_SECRET_ACCESS_KEY=test \
  AWS_DEFAULT_REGION=us-east-1 \
    nohup "$tansu" broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "s3://$bucket/" \
      >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  echo "$port" >"$portfile"
  for _ in $(seq 1 100); do
    if accepts "$port"; then
      echo "tansu listening on 127.0.0.1:$port, storage s3://$bucket/ (pid $(cat "$pidfile"), log $log)"
      echo "export COUPLET_KAFKA_BROKERS=127.0.0.1:$port"
      return 0
    fi
    if ! running "$pidfile"; then
      echo "tansu exited during start-up; its log ($log):" >&2
      tail -n 30 "$log" >&2 || true
      rm -f "$pidfile"
      exit 1
    fi
    sleep 0.1
  done
  echo "tansu did not accept connections on port $port within 10 s; log: $log" >&2
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
  exit 1
}

case $cmd in
  start)
    port=${2:-${KAFKA_BROKER_PORT:-19093}}
    mkdir -p "$dir"
    if running "$pidfile"; then
      echo "tansu already running (pid $(cat "$pidfile"), port $(cat "$portfile"))"
      echo "export COUPLET_KAFKA_BROKERS=127.0.0.1:$(cat "$portfile")"
      exit 0
    fi
    start_s3 "${S3_PORT:-$((port + 400))}"
    : >"$log"
    start_tansu "$port"
    ;;
  restart)
    if [[ ! -f $portfile ]] || ! running "$s3pidfile"; then
      echo "nothing to restart: run $0 start first" >&2
      exit 1
    fi
    port=$(cat "$portfile")
    if running "$pidfile"; then
      pid=$(cat "$pidfile")
      kill -9 "$pid"
      for _ in $(seq 1 100); do
        alive "$pid" || break
        sleep 0.05
      done
      echo "tansu killed (SIGKILL, pid $pid)"
    fi
    # The listening socket can outlive the process by a moment: wait for the port to close.
    for _ in $(seq 1 100); do
      accepts "$port" || break
      sleep 0.05
    done
    rm -f "$pidfile"
    echo "--- restart $(date -u +%FT%TZ) ---" >>"$log"
    start_tansu "$port"
    ;;
  stop)
    stop_pid "$pidfile" tansu TERM
    rm -f "$portfile"
    stop_pid "$s3pidfile" moto TERM
    rm -f "$s3portfile"
    ;;
  status)
    rc=0
    if running "$pidfile"; then
      echo "tansu running (pid $(cat "$pidfile"), port $(cat "$portfile"))"
    else
      echo "tansu not running"; rc=1
    fi
    if running "$s3pidfile"; then
      echo "moto running (pid $(cat "$s3pidfile"), port $(cat "$s3portfile"), bucket $bucket)"
    else
      echo "moto not running"; rc=1
    fi
    exit $rc
    ;;
  *)
    echo "usage: $0 start [PORT] | restart | stop | status" >&2
    exit 2
    ;;
esac
