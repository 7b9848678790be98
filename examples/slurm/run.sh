#!/bin/bash
# Tiling, then embedding once every tiling task has succeeded:
#   examples/slurm/run.sh /data/slides /scratch/run1
set -euo pipefail
SLIDES=${1:?usage: run.sh SLIDE_FOLDER OUT_FOLDER}
OUT=${2:?usage: run.sh SLIDE_FOLDER OUT_FOLDER}
HERE=$(dirname "$0")
tiling=$(sbatch --parsable "$HERE/tile.sbatch" "$SLIDES" "$OUT")
sbatch --dependency=afterok:"$tiling" "$HERE/embed.sbatch" "$OUT"
