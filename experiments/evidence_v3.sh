#!/usr/bin/env bash
# Evidence v3 (docs/EXPERIMENTS.md, issue 27): the RGB headline re-measured under the protocol a reviewer
# accepts: three pretraining seeds per run, three random initialisations, the probe's C chosen on val (a fifth
# of the train motions), test scored once, the gain over random with a bootstrap interval over motions, every
# eval JSON kept (per-clip predictions) and the tables drawn from them.
#   bash experiments/evidence_v3.sh [OUT]      (default output/experiment; `make evidence` runs it)
#   PRETRAIN_N=600: scenes of the pretraining set (its config says 1,000; the recorded runs used 600)
#   SEEDS=1,2,3: pretraining seeds
#   STEPS=A,B,...: only these parts (data, rgb_curriculum, to_cmu, from_cmu, realism, places, diagnosis,
#   summary), in that order; default all
# Every step resumes: renders skip finished clips, training resumes from last.pt, an eval is redone.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
EXP=${1:-output/experiment}
PRETRAIN_N=${PRETRAIN_N:-600}
SEEDS=${SEEDS:-1,2,3}
STEPS=${STEPS:-data,rgb_curriculum,to_cmu,from_cmu,realism,places,diagnosis,summary}
SHARED=${SHARED:-../shared/mocap}
RECORD=${RECORD:-docs/evidence}  # where the eval JSONs behind the doc's tables are copied (small, committed)

wanted() { [[ ",$STEPS," == *",$1,"* ]]; }
log() { echo "[evidence-v3 $(date +%H:%M:%S)] $*"; }
render() { log "render $1 ${2:+(n=$2)}"; "$BIN/synthact" render "experiments/$1.yaml" --out "$EXP" --pack gata ${2:+--n "$2"}; }
train() {
  log "train $1 on $2 -> $3 ${*:4}"
  "$BIN/synthact" train "experiments/$1.yaml" --shards "$EXP/$2/dataset" --out "$EXP/$3" "${@:4}"
}
evaluate() {  # run, dataset, name: scored on test once, C chosen on val, three random networks
  log "eval $1 on $2"
  mkdir -p "$RECORD"
  "$BIN/synthact" eval "$EXP/$1/last.pt" --dataset "$EXP/$2/dataset" --out "$RECORD/$3.json" --random-inits 3
}

if wanted data; then
  render pretrain_frontal_v2 "$PRETRAIN_N"
  render heldout_v2
fi
# The headline: MoCo on RGB reached through the difference-to-RGB curriculum, GATA against classic pairs.
if wanted rgb_curriculum; then
  for run in moco_gata_rgb_curriculum moco_classic_rgb_curriculum; do
    for seed in ${SEEDS//,/ }; do
      if [[ ! -f "$RECORD/v3_${run}_s$seed.json" ]]; then
        train "$run" exp_pretrain_frontal_v2 "v3_${run}_s$seed" --seed "$seed"
        evaluate "v3_${run}_s$seed" exp_heldout300_v2 "v3_${run}_s$seed"
      fi
    done
  done
fi
# Transfer to real motion, both ways, with CMU trials dealt to splits (heldout_cmu.yaml: motions_by trial; no
# trial or window in two splits). To CMU: the headline networks scored on held-out CMU windows.
if wanted to_cmu; then
  "$BIN/synthact" motions import-library cmu "$SHARED/cmu_bvh"
  render heldout_cmu
  for run in moco_gata_rgb_curriculum moco_classic_rgb_curriculum; do
    for seed in ${SEEDS//,/ }; do
      evaluate "v3_${run}_s$seed" exp_heldout_cmu "to_cmu_v3_${run}_s$seed"
    done
  done
fi
# From CMU: pretraining on CMU windows, scored on the held-out procedural classes.
if wanted from_cmu; then
  "$BIN/synthact" motions import-library cmu "$SHARED/cmu_bvh"
  render pretrain_cmu
  for seed in ${SEEDS//,/ }; do
    train moco_gata_rgb_curriculum exp_pretrain_cmu "v3_cmu_moco_gata_rgb_curriculum_s$seed" --seed "$seed"
    evaluate "v3_cmu_moco_gata_rgb_curriculum_s$seed" exp_heldout300_v2 "from_cmu_v3_moco_gata_rgb_curriculum_s$seed"
  done
fi
# What realism buys: the same pretraining on the old look, RGB input, and both looks' networks scored on both
# looks' held-out sets (so neither is only tested in a look it never saw).
if wanted realism; then
  render pretrain_frontal_oldlook "$PRETRAIN_N"
  render heldout_oldlook
  for seed in ${SEEDS//,/ }; do
    train moco_gata_rgb_curriculum exp_pretrain_frontal_oldlook "v3_oldlook_moco_gata_rgb_curriculum_s$seed" \
      --seed "$seed"
    for look in v2 oldlook; do
      evaluate "v3_oldlook_moco_gata_rgb_curriculum_s$seed" "exp_heldout300_$look" \
        "realism_on_${look}_v3_oldlook_moco_gata_rgb_curriculum_s$seed"
    done
    # the new-look networks on the new look: the headline's own evaluation (same checkpoint, same dataset)
    cp "$RECORD/v3_moco_gata_rgb_curriculum_s$seed.json" "$RECORD/realism_on_v2_v3_moco_gata_rgb_curriculum_s$seed.json"
    evaluate "v3_moco_gata_rgb_curriculum_s$seed" exp_heldout300_oldlook \
      "realism_on_oldlook_v3_moco_gata_rgb_curriculum_s$seed"
  done
fi
# What places buy: the same pretraining on scenes set in rooms (pretrain_rooms.yaml, when a place library is
# imported: `synthact environments import ...`), scored on the same held-out set.
if wanted places; then
  if "$BIN/synthact" validate experiments/pretrain_rooms.yaml > /dev/null 2>&1; then
    render pretrain_rooms "$PRETRAIN_N"
    for seed in ${SEEDS//,/ }; do
      train moco_gata_rgb_curriculum exp_pretrain_rooms "v3_rooms_moco_gata_rgb_curriculum_s$seed" --seed "$seed"
      evaluate "v3_rooms_moco_gata_rgb_curriculum_s$seed" exp_heldout300_v2 \
        "places_v3_rooms_moco_gata_rgb_curriculum_s$seed"
    done
  else
    log "places: skipped (experiments/pretrain_rooms.yaml does not validate: no place library imported here)"
  fi
fi
# The first diagnosis round of GATA pairs on plain RGB (docs/EXPERIMENTS.md, RGB: diagnosis): 300-step runs of
# moco_gata_rgb.yaml with one setting changed each, logged per step (cosine with the positive and the queue).
# (The half-classic variant and the second round patched the trainer outside the product; they cannot rerun.)
if wanted diagnosis; then
  mkdir -p "$EXP/diagnosis"
  for variant in "as_configured:" "no_shuffle_bn:bn_groups: 1" "temperature_0.1:temperature: 0.1" \
                 "lr_0.001:lr: 0.001" "momentum_0.999:momentum: 0.999" "classic_pairs:pairs: classic"; do
    name=${variant%%:*}; setting=${variant#*:}
    config="$EXP/diagnosis/$name.yaml"
    if [[ -n "$setting" ]]; then
      grep -v "^${setting%%:*}:" experiments/moco_gata_rgb.yaml > "$config"; echo "$setting" >> "$config"
    else
      cp experiments/moco_gata_rgb.yaml "$config"
    fi
    log "diagnosis $name"
    "$BIN/synthact" train "$config" --shards "$EXP/exp_pretrain_frontal_v2/dataset" --out "$EXP/diagnosis/$name" \
      --steps 300
  done
fi
if wanted summary; then
  "$BIN/python" experiments/summarize_v3.py "$RECORD" --only v3_ --plot docs/evidence_v3.png | tee "$RECORD/summary.md"
  if compgen -G "$EXP/diagnosis/*/metrics.jsonl" > /dev/null; then
    "$BIN/python" experiments/summarize_diagnosis.py "$EXP/diagnosis" --copy "$RECORD" | tee "$RECORD/summary_diagnosis.md"
  fi
  # pretraining on CMU, and on rooms, beside the headline's procedural pretraining (the same test clips)
  for part in to_cmu from_cmu realism_on_v2 realism_on_oldlook places; do
    if compgen -G "$RECORD/${part}_*.json" > /dev/null; then
      beside=(); [[ $part == from_cmu || $part == places ]] && beside=(--only v3_moco_gata_rgb_curriculum_s)
      "$BIN/python" experiments/summarize_v3.py "$RECORD" --only "${part}_" "${beside[@]}" | tee "$RECORD/summary_$part.md"
    fi
  done
fi
