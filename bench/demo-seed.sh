#!/usr/bin/env bash
# Times `gongkao demo --seed-only` on a fresh SQLite data folder, N runs (default 7), and prints
# every run and the median. Also times `gongkao migrate` on a fresh folder as the reference
# measured in the same run (start-up, migrations and the 2020 campaign without demo data), so
# the difference is the seeding itself. Bounded: N runs, each killed after 120 s.
#   usage: bench/demo-seed.sh [path/to/gongkao] [runs]
set -euo pipefail
bin=${1:-target/debug/gongkao}
runs=${2:-7}
[ -x "$bin" ] || { echo "build first: cargo build -p gongkao (binary not found at $bin)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

time_cmd() { # prints milliseconds
  local start end
  start=$(date +%s%N)
  RUST_LOG=warn timeout 120 "$@" >/dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

seed=(); ref=()
for i in $(seq 1 "$runs"); do
  ref+=("$(time_cmd "$bin" --data-dir "$work/ref$i" migrate)")
  seed+=("$(time_cmd "$bin" --data-dir "$work/seed$i" demo --seed-only)")
done
echo "migrate (reference), ms: ${ref[*]}"
echo "demo --seed-only,    ms: ${seed[*]}"
echo "median migrate: $(printf '%s\n' "${ref[@]}" | median) ms"
echo "median demo --seed-only: $(printf '%s\n' "${seed[@]}" | median) ms"
