#!/usr/bin/env bash
# Application submissions under load on SQLite (issue 4: at least 1,000 a second sustained,
# p99 under 50 ms at 200 concurrent clients). Builds the release binaries, seeds a fresh data
# folder with the demo and one applicant account per client (load.0001…), starts the server on
# 127.0.0.1 with the clock at 2020-04-14 09:00 (registration open), then RUNS times:
#   1. the reference: GET /healthz at the same concurrency (no database; judges the noise);
#   2. `gongkao-load submit`: every client, as its own applicant, saves its application
#      (POST /application), submits it with the pledge and withdraws it, in a loop;
# and prints every run and the medians. Each measurement is bounded (timeout 60 s).
#   usage: bench/load-submit.sh [runs=3] [clients=200] [duration=20s]
#   env:   CARGO_TARGET_DIR (default ./target), PORT (default 18080), SKIP_BUILD=1
set -euo pipefail
runs=${1:-3}
clients=${2:-200}
duration=${3:-20s}
port=${PORT:-18080}
target=${CARGO_TARGET_DIR:-target}
cd "$(dirname "$0")/.."
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p gongkao -p gongkao-loadgen
bin=$target/release/gongkao
load=$target/release/gongkao-load
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
RUST_LOG=warn timeout 120 "$bin" --data-dir "$work" demo --seed-only --applicant-accounts "$clients" >/dev/null
RUST_LOG=warn "$bin" --data-dir "$work" --listen "127.0.0.1:$port" --at "2020-04-14 09:00" serve >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
base=http://127.0.0.1:$port
echo "server pid $pid at $base; $(nproc) cores; $(uptime | sed 's/.*load average/load average/')"
for i in $(seq 1 "$runs"); do
  timeout 60 "$load" get --base "$base" --path /healthz --clients "$clients" --duration 10s --server-pid "$pid" --json \
    >>"$work/ref.jsonl" 2>"$work/ref$i.txt"
  timeout 60 "$load" submit --base "$base" --users-from "$work/load-accounts.tsv" --clients "$clients" --duration "$duration" \
    --server-pid "$pid" --json >>"$work/submit.jsonl" 2>"$work/submit$i.txt"
  echo "--- run $i: reference"; cat "$work/ref$i.txt"
  echo "--- run $i: submit"; cat "$work/submit$i.txt"
done
echo "=== reference (GET /healthz)"; "$load" median "$work/ref.jsonl"
echo "=== submissions"; "$load" median "$work/submit.jsonl"
[ -s "$work/server.err" ] && { echo "=== server warnings (last 5)"; tail -5 "$work/server.err"; }
