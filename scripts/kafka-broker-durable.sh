#!/usr/bin/env bash
# Starts or stops a local Kafka-protocol broker (Tansu) whose data survives a broker restart,
# SIGKILL included: Tansu keeps its data in a SQLite file (its `sqlite://` storage, cargo
# feature `libsql`), written with SQLite's journal, so what the broker acknowledged is on disk.
#
#   scripts/kafka-broker-durable.sh start [PORT]  # default 19093; prints the export line
#   scripts/kafka-broker-durable.sh restart       # SIGKILLs Tansu, starts it again on the same port and file
#   scripts/kafka-broker-durable.sh stop          # stops Tansu (the file stays in the directory)
#   scripts/kafka-broker-durable.sh status
#
# Tansu comes from `cargo install tansu --locked --version 0.6.0 --features dynostore,libsql
# --root ~/.cargo/tansu-0.6.0-libsql` (what `.ci/run` does); set TANSU to use another binary
# built with `libsql`. State (pid, port, log, tansu.db) lives in $KAFKA_BROKER_DIR (default
# target/kafka-broker-durable).
#
# Why not Tansu on S3: on moto's S3 emulator, Tansu 0.6 keeps every producer's state in one
# object (meta.json) written with conditional PUTs; under Couplet's load the PUTs conflict
# (412) and moto fails some of them (500, "I/O operation on closed file"), and produce
# requests then stall past librdkafka's 30 s timeout (seen in CI on 2026-12-07).
set -euo pipefail

cmd=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${KAFKA_BROKER_DIR:-$root/target/kafka-broker-durable}
default_tansu=$HOME/.cargo/tansu-0.6.0-libsql/bin/tansu
tansu=${TANSU:-$default_tansu}
install_hint="cargo install tansu --locked --version 0.6.0 --features dynostore,libsql --root $HOME/.cargo/tansu-0.6.0-libsql"
pidfile=$dir/tansu.pid
portfile=$dir/tansu.port
log=$dir/tansu.log

running() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

alive() { # true while the process exists and is not a zombie
  kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

accepts() {
  # bash's /dev/tcp: true once something accepts connections on the port.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_tansu() {
  local port=$1
  if [[ ! -x $tansu ]]; then
    echo "tansu not found (looked at $tansu): $install_hint" >&2
    exit 1
  fi
  if accepts "$port"; then
    echo "port $port is already in use; pass another: $0 start PORT" >&2
    exit 1
  fi
  # The sqlite URL's host is a path relative to the working directory: the broker's directory.
  (cd "$dir" && exec nohup "$tansu" broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "sqlite://tansu.db" \
      >>"$log" 2>&1 </dev/null) &
  echo $! >"$pidfile"
  echo "$port" >"$portfile"
  for _ in $(seq 1 100); do
    if accepts "$port"; then
      echo "tansu listening on 127.0.0.1:$port, storage $dir/tansu.db (pid $(cat "$pidfile"), log $log)"
      echo "export COUPLET_KAFKA_BROKERS=127.0.0.1:$port"
      return 0
    fi
    if ! running "$pidfile"; then
      echo "tansu exited during start-up; its log ($log):" >&2
      tail -n 30 "$log" >&2 || true
      if grep -q "FeatureNotEnabled" "$log"; then
        echo "this tansu was built without the libsql feature: $install_hint" >&2
      fi
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
    : >"$log"
    start_tansu "$port"
    ;;
  restart)
    if [[ ! -f $portfile ]]; then
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
    if running "$pidfile"; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
      echo "tansu stopped (pid $pid)"
    else
      echo "tansu not running"
    fi
    rm -f "$pidfile" "$portfile"
    ;;
  status)
    if running "$pidfile"; then
      echo "tansu running (pid $(cat "$pidfile"), port $(cat "$portfile"), data $dir/tansu.db)"
    else
      echo "tansu not running"
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 start [PORT] | restart | stop | status" >&2
    exit 2
    ;;
esac
