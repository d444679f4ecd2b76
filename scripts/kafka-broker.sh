#!/usr/bin/env bash
# Starts or stops a local Kafka-protocol broker (Tansu, in-memory storage) for the Kafka tests.
#
#   scripts/kafka-broker.sh start [PORT]   # default 19092; prints the export line for the tests
#   scripts/kafka-broker.sh stop
#   scripts/kafka-broker.sh status
#
# Tansu comes from `cargo install tansu --locked --version 0.6.0 --features dynostore`; set
# TANSU to use another binary. State (pid, port, log) lives in $KAFKA_BROKER_DIR (default
# target/kafka-broker). Data is in memory: it is gone when the broker stops.
set -euo pipefail

cmd=${1:-}
port=${2:-${KAFKA_BROKER_PORT:-19092}}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${KAFKA_BROKER_DIR:-$root/target/kafka-broker}
tansu=${TANSU:-$(command -v tansu || echo "$HOME/.cargo/bin/tansu")}
pidfile=$dir/tansu.pid
portfile=$dir/tansu.port
log=$dir/tansu.log

running() {
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

accepts() {
  # bash's /dev/tcp: true once something accepts connections on the port.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

case $cmd in
  start)
    mkdir -p "$dir"
    if running; then
      echo "tansu already running (pid $(cat "$pidfile"), port $(cat "$portfile"))"
      echo "export COUPLET_KAFKA_BROKERS=127.0.0.1:$(cat "$portfile")"
      exit 0
    fi
    if [[ ! -x $tansu ]]; then
      echo "tansu not found (looked at $tansu): cargo install tansu --locked --version 0.6.0 --features dynostore" >&2
      exit 1
    fi
    if accepts "$port"; then
      echo "port $port is already in use; pass another: $0 start PORT" >&2
      exit 1
    fi
    nohup "$tansu" broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "memory://tansu/" \
      >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    echo "$port" >"$portfile"
    for _ in $(seq 1 100); do
      if accepts "$port"; then
        echo "tansu listening on 127.0.0.1:$port (pid $(cat "$pidfile"), log $log)"
        echo "export COUPLET_KAFKA_BROKERS=127.0.0.1:$port"
        exit 0
      fi
      if ! running; then
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
    ;;
  stop)
    if running; then
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
      fi
      echo "tansu stopped (pid $pid)"
    else
      echo "tansu not running"
    fi
    rm -f "$pidfile" "$portfile"
    ;;
  status)
    if running; then
      echo "tansu running (pid $(cat "$pidfile"), port $(cat "$portfile"))"
    else
      echo "tansu not running"
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 start [PORT] | stop | status" >&2
    exit 2
    ;;
esac
