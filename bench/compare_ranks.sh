#!/usr/bin/env bash
# Data-parallel training throughput: `exahealth bench train` on one process
# with one thread against `mpirun -np 2` with one thread per rank (each
# rank its own batch, gradients averaged by one all-reduce per step), best
# of 3 runs each; prints a markdown table and the ratio.
#
#   cargo build --release -p exahealth --features mpi
#   bench/compare_ranks.sh target/release/exahealth
set -euo pipefail
BIN=${1:?usage: compare_ranks.sh PATH_TO_EXAHEALTH_BUILT_WITH_MPI}
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to core)
best() {  # command... -> best images_per_s of 3 runs
  local top=0
  for _ in 1 2 3; do
    local v
    v=$("$@" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["images_per_s"])')
    top=$(python3 -c "print(max($top, $v))")
  done
  echo "$top"
}
echo "| model | batch per rank | 1 process, 1 thread (images/s) | mpirun -np 2, 1 thread each (images/s) | ratio |"
echo "|---|---|---|---|---|"
for spec in "small-cnn 32 64 10" "resnet18 8 224 3"; do
  set -- $spec
  args=(bench train --model "$1" --batch "$2" --size "$3" --steps "$4" --threads 1 --json)
  one=$(best "$BIN" "${args[@]}")
  two=$(best "${MPIRUN[@]}" -np 2 "$BIN" "${args[@]}")
  ratio=$(python3 -c "print(f'{$two / $one:.2f}')")
  printf '| %s | %s (size %s) | %.1f | %.1f | %sx |\n' "$1" "$2" "$3" "$one" "$two" "$ratio"
done
