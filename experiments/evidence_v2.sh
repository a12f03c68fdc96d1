#!/usr/bin/env bash
# Evidence v2 (docs/EXPERIMENTS.md): RGB pretraining in the new look, transfer to real motion both ways, and
# the old look at the same budget.
#   bash experiments/evidence_v2.sh [OUT]      (default output/experiment; `make evidence-v2` runs it)
# Every step resumes: renders skip finished clips, training resumes from last.pt, an eval is redone.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
EXP=${1:-output/experiment}
FINETUNE_EPOCHS=${FINETUNE_EPOCHS:-5}
SHARED=${SHARED:-../shared/mocap}

render() { "$BIN/synthact" render "experiments/$1.yaml" --out "$EXP" --pack gata; }
train() { "$BIN/synthact" train "experiments/$1.yaml" --shards "$EXP/$2/dataset" --out "$EXP/$3" "${@:4}"; }
evaluate() {
  "$BIN/synthact" eval "$EXP/$1/last.pt" --dataset "$EXP/$2/dataset" --out "$EXP/eval_$3.json" \
    --finetune-epochs "$FINETUNE_EPOCHS"
}

# 1. RGB learns: procedural pretraining in the new look, GATA and classic pairs, two seeds.
render pretrain_frontal_v2
render heldout_v2
for seed in 1 2; do
  for run in moco_gata_rgb moco_classic_rgb; do
    train "$run" exp_pretrain_frontal_v2 "v2_${run}_s$seed" --seed "$seed"
    evaluate "v2_${run}_s$seed" exp_heldout300_v2 "v2_${run}_s$seed"
  done
done
# 2. Transfer to real motion: the procedural network on CMU windows, and a CMU-pretrained one on procedural classes.
"$BIN/synthact" motions import-library cmu "$SHARED/cmu_bvh"
render heldout_cmu
evaluate v2_moco_gata_rgb_s1 exp_heldout_cmu procedural_to_cmu
render pretrain_cmu
train moco_gata_rgb exp_pretrain_cmu v2_cmu_moco_gata_rgb
evaluate v2_cmu_moco_gata_rgb exp_heldout300_v2 cmu_to_procedural
# 3. What realism buys: the same pretraining on the old look, scored on the same new-look held-out set.
render pretrain_frontal_oldlook
train moco_gata_rgb exp_pretrain_frontal_oldlook v2_oldlook_moco_gata_rgb
evaluate v2_oldlook_moco_gata_rgb exp_heldout300_v2 oldlook_moco_gata_rgb
"$BIN/python" experiments/summarize.py "$EXP"/eval_v2_moco_*_s1.json "$EXP"/eval_v2_moco_*_s2.json \
  "$EXP/eval_procedural_to_cmu.json" "$EXP/eval_cmu_to_procedural.json" "$EXP/eval_oldlook_moco_gata_rgb.json" \
  --plot "$EXP/evidence_v2.png"
