#!/usr/bin/env bash
# Evidence v2 (docs/EXPERIMENTS.md): RGB pretraining in the new look, transfer to real motion both ways, and
# the old look at the same budget, in order of importance (a run cut short has the first answers).
#   bash experiments/evidence_v2.sh [OUT]      (default output/experiment; `make evidence-v2` runs it)
#   PRETRAIN_N=600 (the recorded run): scenes of each procedural pretraining set (its config says 1,000)
#   FINETUNE_EPOCHS=0 (the recorded run) skips whole-network fine-tuning in the evaluations
#   STEPS=A,B,...: only these parts (rgb, to_cmu, oldlook, from_cmu, summary); default all
# Every step resumes: renders skip finished clips, training resumes from last.pt, an eval is redone.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
EXP=${1:-output/experiment}
PRETRAIN_N=${PRETRAIN_N:-1000}
FINETUNE_EPOCHS=${FINETUNE_EPOCHS:-0}
SHARED=${SHARED:-../shared/mocap}
STEPS=${STEPS:-rgb,to_cmu,oldlook,from_cmu,summary}

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

# 1. RGB learns: procedural pretraining in the new look, GATA and classic pairs, two seeds.
if wanted rgb; then
  render pretrain_frontal_v2 "$PRETRAIN_N"
  render heldout_v2
  for seed in 1 2; do
    for run in moco_gata_rgb moco_classic_rgb; do
      train "$run" exp_pretrain_frontal_v2 "v2_${run}_s$seed" --seed "$seed"
      evaluate "v2_${run}_s$seed" exp_heldout300_v2 "v2_${run}_s$seed"
    done
  done
fi
# 2a. Transfer to real motion: the procedural network on held-out clips of CMU windows.
if wanted to_cmu; then
  "$BIN/synthact" motions import-library cmu "$SHARED/cmu_bvh"
  render heldout_cmu
  for seed in 1 2; do
    evaluate "v2_moco_gata_rgb_s$seed" exp_heldout_cmu "procedural_to_cmu_s$seed"
  done
fi
# 3. What realism buys: the same pretraining on the old look, scored on the same new-look held-out set.
if wanted oldlook; then
  render pretrain_frontal_oldlook "$PRETRAIN_N"
  train moco_gata_rgb exp_pretrain_frontal_oldlook v2_oldlook_moco_gata_rgb
  evaluate v2_oldlook_moco_gata_rgb exp_heldout300_v2 oldlook_moco_gata_rgb
fi
# 2b. And back: pretraining on CMU windows, scored on the held-out procedural classes.
if wanted from_cmu; then
  "$BIN/synthact" motions import-library cmu "$SHARED/cmu_bvh"
  render pretrain_cmu
  train moco_gata_rgb exp_pretrain_cmu v2_cmu_moco_gata_rgb
  evaluate v2_cmu_moco_gata_rgb exp_heldout300_v2 cmu_to_procedural
fi
if wanted summary; then
  summarize evidence_v2_rgb "$EXP"/eval_v2_moco_gata_rgb_s{1,2}.json "$EXP"/eval_v2_moco_classic_rgb_s{1,2}.json
  for group in procedural_to_cmu_s1,procedural_to_cmu_s2 oldlook_moco_gata_rgb cmu_to_procedural; do
    files=()
    for name in ${group//,/ }; do [[ -f "$EXP/eval_$name.json" ]] && files+=("$EXP/eval_$name.json"); done
    if (( ${#files[@]} )); then summarize "evidence_v2_${group%%,*}" "${files[@]}"; fi
  done
fi
