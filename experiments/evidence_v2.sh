#!/usr/bin/env bash
# Evidence v2 (docs/EXPERIMENTS.md): RGB pretraining in the new look, transfer to real motion both ways, and
# the old look at the same budget, in order of importance (a run cut short has the first answers).
#   bash experiments/evidence_v2.sh [OUT]      (default output/experiment; `make evidence-v2` runs it)
#   PRETRAIN_N=600 (the recorded run): scenes of each procedural pretraining set (its config says 1,000)
#   FINETUNE_EPOCHS=0 (the recorded run) skips whole-network fine-tuning in the evaluations
#   STEPS=A,B,...: only these parts (data, difference, rgb, rgb_curriculum, to_cmu, oldlook, from_cmu, summary), in
#   that order;
#   default all
# Every step resumes: renders skip finished clips, training resumes from last.pt, an eval is redone.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
EXP=${1:-output/experiment}
PRETRAIN_N=${PRETRAIN_N:-1000}
FINETUNE_EPOCHS=${FINETUNE_EPOCHS:-0}
SHARED=${SHARED:-../shared/mocap}
STEPS=${STEPS:-data,difference,rgb,rgb_curriculum,to_cmu,oldlook,from_cmu,summary}

wanted() { [[ ",$STEPS," == *",$1,"* ]]; }
log() { echo "[evidence-v2 $(date +%H:%M:%S)] $*"; }
render() { log "render $1 ${2:+(n=$2)}"; "$BIN/synthact" render "experiments/$1.yaml" --out "$EXP" --pack gata ${2:+--n "$2"}; }
train() {
  log "train $1 on $2 -> $3 ${*:4}"
  "$BIN/synthact" train "experiments/$1.yaml" --shards "$EXP/$2/dataset" --out "$EXP/$3" "${@:4}"
}
evaluate() {
  log "eval $1 on $2"
  "$BIN/synthact" eval "$EXP/$1/last.pt" --dataset "$EXP/$2/dataset" --out "$EXP/eval_$3.json" \
    --finetune-epochs "$FINETUNE_EPOCHS"
}
summarize() { "$BIN/python" experiments/summarize.py "${@:2}" --plot "$EXP/$1.png" | tee "$EXP/$1.md"; }

if wanted data; then
  render pretrain_frontal_v2 "$PRETRAIN_N"
  render heldout_v2
fi
# 1a. Frame differences (the input of the recorded v1 run) on the new-look data, two seeds.
if wanted difference; then
  for seed in 1 2; do
    train moco_gata exp_pretrain_frontal_v2 "v2_moco_gata_difference_s$seed" --seed "$seed"
    evaluate "v2_moco_gata_difference_s$seed" exp_heldout300_v2 "v2_moco_gata_difference_s$seed"
  done
fi
# Two seeds of each run on the new-look pretraining set, scored on the held-out procedural classes.
pretrain_and_score() {
  for seed in 1 2; do
    for run in "$@"; do
      train "$run" exp_pretrain_frontal_v2 "v2_${run}_s$seed" --seed "$seed"
      evaluate "v2_${run}_s$seed" exp_heldout300_v2 "v2_${run}_s$seed"
    done
  done
}
# 1b. RGB input: GATA and classic pairs (GATA pairs on plain RGB collapse at this scale: docs/EXPERIMENTS.md).
if wanted rgb; then pretrain_and_score moco_classic_rgb moco_gata_rgb; fi
# 1c. RGB reached through a curriculum: differences faded into RGB between 40% and 80% of the steps.
if wanted rgb_curriculum; then pretrain_and_score moco_gata_rgb_curriculum moco_classic_rgb_curriculum; fi
# 2a. Transfer to real motion: the procedural networks on held-out clips of CMU windows.
if wanted to_cmu; then
  "$BIN/synthact" motions import-library cmu "$SHARED/cmu_bvh"
  render heldout_cmu
  for run in v2_moco_gata_difference_s1 v2_moco_gata_difference_s2 v2_moco_classic_rgb_s1 v2_moco_gata_rgb_s1 \
             v2_moco_gata_rgb_curriculum_s1 v2_moco_gata_rgb_curriculum_s2 v2_moco_classic_rgb_curriculum_s1; do
    if [[ -f "$EXP/$run/last.pt" ]]; then evaluate "$run" exp_heldout_cmu "to_cmu_$run"; fi
  done
fi
# 3. What realism buys: the same pretraining on the old look, scored on the same new-look held-out set.
if wanted oldlook; then
  render pretrain_frontal_oldlook "$PRETRAIN_N"
  train moco_gata exp_pretrain_frontal_oldlook v2_oldlook_moco_gata_difference
  evaluate v2_oldlook_moco_gata_difference exp_heldout300_v2 oldlook_moco_gata_difference
fi
# 2b. And back: pretraining on CMU windows, scored on the held-out procedural classes.
if wanted from_cmu; then
  "$BIN/synthact" motions import-library cmu "$SHARED/cmu_bvh"
  render pretrain_cmu
  train moco_gata exp_pretrain_cmu v2_cmu_moco_gata_difference
  evaluate v2_cmu_moco_gata_difference exp_heldout300_v2 cmu_to_procedural
fi
if wanted summary; then
  summaries=(
    "evidence_v2_procedural v2_moco_gata_difference_s1 v2_moco_gata_difference_s2 v2_moco_gata_rgb_s1 v2_moco_gata_rgb_s2 v2_moco_classic_rgb_s1 v2_moco_classic_rgb_s2 v2_moco_gata_rgb_curriculum_s1 v2_moco_gata_rgb_curriculum_s2 v2_moco_classic_rgb_curriculum_s1 v2_moco_classic_rgb_curriculum_s2 oldlook_moco_gata_difference cmu_to_procedural"
    "evidence_v2_to_cmu to_cmu_v2_moco_gata_difference_s1 to_cmu_v2_moco_gata_difference_s2 to_cmu_v2_moco_classic_rgb_s1 to_cmu_v2_moco_gata_rgb_s1 to_cmu_v2_moco_gata_rgb_curriculum_s1 to_cmu_v2_moco_gata_rgb_curriculum_s2 to_cmu_v2_moco_classic_rgb_curriculum_s1")
  for line in "${summaries[@]}"; do
    read -r name runs <<< "$line"
    files=()
    for run in $runs; do [[ -f "$EXP/eval_$run.json" ]] && files+=("$EXP/eval_$run.json"); done
    if (( ${#files[@]} )); then summarize "$name" "${files[@]}"; fi
  done
fi
