#!/usr/bin/env bash
# Staff list pages under load over about 200,000 applications on SQLite (issue 4: the agency's
# filtered list in under 100 ms p99). Seeds 333,334 demo applicants (197,812 applications, as
# bench/recheck.sh), starts the server with the clock at 2020-04-14 09:00, then RUNS times: the
# reference (GET /healthz at the same concurrency) and `gongkao-load get` over the paths, signed
# in as USER; prints every run and the medians. Each measurement is bounded (timeout 60 s).
#   usage: bench/load-list.sh [runs=3] [clients=50] [duration=20s]
#   env:   USER_NAME (default prov.reviewer: the province, so the whole campaign is in scope)
#          PATHS (newline- or space-separated; default: existing list pages, see below)
#          APPLICANTS (default 333334), CARGO_TARGET_DIR, PORT (default 18081), SKIP_BUILD=1
#          DATA_DIR: reuse a seeded folder (it is kept) instead of seeding a fresh one
set -euo pipefail
runs=${1:-3}
clients=${2:-50}
duration=${3:-20s}
port=${PORT:-18081}
user=${USER_NAME:-prov.reviewer}
applicants=${APPLICANTS:-333334}
# The lead's agency list goes here, e.g.
#   PATHS="/agency-applications?status=submitted /agency-applications?level=3&verdict=eligible&page=20"
paths=${PATHS:-"/applicants /applicants?page=500 /applicants?work_type=汽车驾驶员 /applicants?q=张"}
target=${CARGO_TARGET_DIR:-target}
cd "$(dirname "$0")/.."
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p gongkao -p gongkao-loadgen
bin=$target/release/gongkao
load=$target/release/gongkao-load
work=$(mktemp -d)
data=${DATA_DIR:-$work/data}
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ ! -e "$data/gongkao.sqlite" ]; then
  start=$(date +%s)
  RUST_LOG=warn timeout 300 "$bin" --data-dir "$data" demo --seed-only --applicants "$applicants" | head -1
  echo "seeded in $(( $(date +%s) - start )) s"
fi
RUST_LOG=warn "$bin" --data-dir "$data" --listen "127.0.0.1:$port" --at "2020-04-14 09:00" serve >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
base=http://127.0.0.1:$port
args=()
for p in $paths; do args+=(--path "$p"); done
echo "server pid $pid at $base; user $user; $(nproc) cores; $(uptime | sed 's/.*load average/load average/')"
for i in $(seq 1 "$runs"); do
  timeout 60 "$load" get --base "$base" --path /healthz --clients "$clients" --duration 10s --server-pid "$pid" --json \
    >>"$work/ref.jsonl" 2>"$work/ref$i.txt"
  timeout 60 "$load" get --base "$base" --user "$user" "${args[@]}" --clients "$clients" --duration "$duration" \
    --server-pid "$pid" --json >>"$work/list.jsonl" 2>"$work/list$i.txt"
  echo "--- run $i: reference"; cat "$work/ref$i.txt"
  echo "--- run $i: lists"; cat "$work/list$i.txt"
done
echo "=== reference (GET /healthz)"; "$load" median "$work/ref.jsonl"
echo "=== lists as $user"; "$load" median "$work/list.jsonl"
