#!/usr/bin/env bash
# The computer-based exam under load (product targets at 2,000 candidates: saves at least 20,000/s
# on SQLite and 8,000/s on PostgreSQL with p99 under 50 ms; every candidate has the paper within
# 2 s of the start; server memory under 300 MB). Builds the release binaries, seeds the demo once
# with enough applicants that 郑州's 职业道德 sitting (2020-07-18 11:00) has CLIENTS candidates
# with a paper (exam-candidates.tsv), then RUNS times, each on a fresh copy of the seeded data
# (so every storm is the first login of everyone), with the server's clock at 2020-07-18 10:55:
#   1. the reference: GET /healthz at the same concurrency (no database; judges the noise);
#   2. the start storm: the exam officer starts the rooms, then all candidates log in, confirm
#      and fetch the paper at one instant (STORM_BEFORE_START=1: they log in first and the
#      instant is the rooms' start, the pages polling the state every 2 s);
#   3. `--max` saves: every candidate saves a random answer as soon as the last was acknowledged;
#   4. `--max --next`: the same, each save followed by GET /exam/api/item (like-for-like);
# and prints every run and the medians. Every command is bounded by `timeout`.
#   usage: bench/load-exam.sh [runs=3] [clients=2000] [duration=15s]
#   env:   DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME: run on PostgreSQL; the script
#            creates NAME (seeded) and NAME_run (a copy per run) and drops both at the end
#          APPLICANTS (default 620000: about 2,100 candidates), THREADS (load generator, default 1)
#          STORM_TIMEOUT (seconds, default 60: how long the storm and each of its requests may take)
#          CARGO_TARGET_DIR (default ./target), PORT (default 18082), SKIP_BUILD=1, STORM_BEFORE_START=1
#          SEED_DIR=DIR (SQLite): keep the seeded data in DIR and reuse it when it is there already
#          PACE=SECONDS: also measure saves at a steady pace (each candidate once every SECONDS on
#            average, latency from when each save was due: 0.1 is 20,000/s at 2,000 candidates)
set -euo pipefail
runs=${1:-3}
clients=${2:-2000}
duration=${3:-15s}
port=${PORT:-18082}
applicants=${APPLICANTS:-620000}
threads=${THREADS:-1}
storm_timeout=${STORM_TIMEOUT:-60}
target=${CARGO_TARGET_DIR:-target}
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p gongkao -p gongkao-loadgen
bin=$target/release/gongkao
load=$target/release/gongkao-load
work=$(mktemp -d)
pid=
db_args=()
pg_admin=
db=
if [ -n "${DATABASE_URL:-}" ]; then
  db=${DATABASE_URL##*/}
  db=${db%%\?*}
  case "$db" in *[!a-z0-9_]* | "") echo "DATABASE_URL must end in a plain database name (a-z, 0-9, _)"; exit 2 ;; esac
  pg_admin=${DATABASE_URL%/*}/postgres
fi
psql_admin() { timeout 300 psql "$pg_admin" -v ON_ERROR_STOP=1 -qAtc "$1"; }
stop_server() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi
}
cleanup() {
  stop_server
  if [ -n "$db" ]; then
    psql_admin "DROP DATABASE IF EXISTS ${db}_run" || true
    psql_admin "DROP DATABASE IF EXISTS $db" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Seed once.
if [ -n "$db" ]; then
  psql_admin "DROP DATABASE IF EXISTS ${db}_run"
  psql_admin "DROP DATABASE IF EXISTS $db"
  psql_admin "CREATE DATABASE $db"
  db_args=(--database-url "$DATABASE_URL")
fi
seed=$work/seed
[ -z "${SEED_DIR:-}" ] || [ -n "$db" ] || seed=$SEED_DIR
if [ -s "$seed/exam-candidates.tsv" ]; then
  echo "reusing the seeded data in $seed"
else
  start=$(date +%s)
  RUST_LOG=warn timeout 1800 "$bin" --data-dir "$seed" "${db_args[@]}" demo --seed-only --applicants "$applicants" --exam-candidates \
    | grep -E '演示数据|机考演示场次考生' || true
  echo "seeded $applicants applicants in $(( $(date +%s) - start )) s"
fi
listed=$(( $(wc -l <"$seed/exam-candidates.tsv") - 1 ))
if [ "$listed" -lt "$clients" ]; then
  echo "only $listed exam candidates for $clients clients: raise APPLICANTS"
  exit 1
fi
cp "$seed/exam-candidates.tsv" "$work/candidates.tsv"
base=http://127.0.0.1:$port
storm=(--storm)
[ -z "${STORM_BEFORE_START:-}" ] || storm=(--storm-before-start)
backend=SQLite
[ -z "$db" ] || backend="PostgreSQL ($db)"
echo "$listed candidates listed, $clients used; $(nproc) cores; $backend"

for i in $(seq 1 "$runs"); do
  # A fresh copy of the seeded data: rooms not started, nobody logged in.
  rm -rf "$work/run"
  cp -a "$seed" "$work/run"
  run_args=()
  if [ -n "$db" ]; then
    psql_admin "DROP DATABASE IF EXISTS ${db}_run"
    psql_admin "CREATE DATABASE ${db}_run TEMPLATE $db"
    run_args=(--database-url "${DATABASE_URL%/*}/${db}_run")
  fi
  RUST_LOG=warn "$bin" --data-dir "$work/run" "${run_args[@]}" --listen "127.0.0.1:$port" --at "2020-07-18 10:55" serve \
    >"$work/server.out" 2>>"$work/server.err" &
  pid=$!
  for _ in $(seq 1 300); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "--- run $i: server pid $pid at $base; $(uptime | sed 's/.*load average/load average/')"
  common=(--base "$base" --clients "$clients" --threads "$threads" --server-pid "$pid" --json)
  exam=(exam --candidates-from "$work/candidates.tsv" "${common[@]}")
  timeout 60 "$load" get --path /healthz --duration 10s "${common[@]}" >>"$work/ref.jsonl" 2>"$work/ref$i.txt" || echo "reference failed: $?"
  timeout $((storm_timeout + 120)) "$load" "${exam[@]}" "${storm[@]}" --storm-timeout "${storm_timeout}s" \
    --request-timeout "${storm_timeout}s" >>"$work/storm.jsonl" 2>"$work/storm$i.txt" || echo "storm failed: $?"
  timeout 300 "$load" "${exam[@]}" --max --duration "$duration" >>"$work/max.jsonl" 2>"$work/max$i.txt" || echo "--max failed: $?"
  timeout 300 "$load" "${exam[@]}" --max --next --duration "$duration" >>"$work/next.jsonl" 2>"$work/next$i.txt" || echo "--next failed: $?"
  if [ -n "${PACE:-}" ]; then
    timeout 300 "$load" "${exam[@]}" --pace "$PACE" --duration "$duration" >>"$work/pace.jsonl" 2>"$work/pace$i.txt" || echo "--pace failed: $?"
  fi
  for f in ref storm max next ${PACE:+pace}; do echo "--- run $i: $f"; cat "$work/$f$i.txt"; done
  stop_server
  if [ -n "$db" ]; then psql_admin "DROP DATABASE IF EXISTS ${db}_run"; fi
done
echo "=== reference (GET /healthz)"; "$load" median "$work/ref.jsonl" || true
echo "=== start storm"; "$load" median "$work/storm.jsonl" || true
echo "=== saves --max"; "$load" median "$work/max.jsonl" || true
echo "=== saves --max --next"; "$load" median "$work/next.jsonl" || true
[ -z "${PACE:-}" ] || { echo "=== saves --pace $PACE"; "$load" median "$work/pace.jsonl" || true; }
[ -s "$work/server.err" ] && { echo "=== server warnings (last 5)"; tail -5 "$work/server.err"; }
exit 0
