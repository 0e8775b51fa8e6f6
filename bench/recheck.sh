#!/usr/bin/env bash
# Measures `gongkao eligibility recheck` on SQLite over about 200,000 stored applications
# (333,334 demo applicants, three in five of whom have applied). Two runs on the same data:
#   1. the reference: nothing changed, so only reads and evaluations;
#   2. the worst case: every 'eligible' verdict is first set to 'needs_review' behind the
#      application's back, so each of them changes back and is written.
# Bounded: each command is killed after 300 s.
#   usage: bench/recheck.sh [path/to/gongkao] [applicants]
set -euo pipefail
bin=${1:-target/release/gongkao}
applicants=${2:-333334}
[ -x "$bin" ] || { echo "build first (binary not found at $bin)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RUST_LOG=warn timeout 300 "$bin" --data-dir "$work" demo --seed-only --applicants "$applicants" 2>/dev/null | head -1
run() {
  local start end
  start=$(date +%s%N)
  RUST_LOG=warn timeout 300 "$bin" --data-dir "$work" eligibility recheck --campaign 2020 2>"$work/err" >"$work/out"
  end=$(date +%s%N)
  echo "$1: $(( (end - start) / 1000000 )) ms; $(tail -1 "$work/err")"
}
run "reference (no change)"
sqlite3 "$work/gongkao.sqlite" "UPDATE application SET verdict = 'needs_review' WHERE verdict = 'eligible'"
run "worst case (every eligible verdict changes)"
