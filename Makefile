# Two commands on a fresh machine:  `make render N=8`  and  `make test`.
# Both create (once) and reuse the project virtualenv in .venv.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= scene_configs/default.yaml
N      ?= 8
OUT    ?= output
LAYOUT ?= gata

.PHONY: setup render train evidence evidence-v1 evidence-v2 evidence-v3 test lint bench bench-gpu schema clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "SynthAct needs Python 3.11 (bpy 5.0.1); set PYTHON=/path/to/python3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[render,train,dev]'
	touch $(STAMP)

render: $(STAMP)
	$(BIN)/synthact render $(CONFIG) --n $(N) --out $(OUT) --pack $(LAYOUT)

train: $(STAMP)
	$(BIN)/synthact train train_configs/cpu_small.yaml --shards $(OUT)/default/dataset --out $(OUT)/train

# The recorded evidence experiments (docs/EXPERIMENTS.md): v3 (the RGB headline under the reviewed protocol:
# 3 seeds, 3 random networks, C chosen on val, bootstrap over motions; about 1.5 h on 2 CPU cores, and the
# places ablation where a place library is imported), then the earlier v1 and v2 (about 1.5 h and 2 h).
EXP := $(OUT)/experiment
FINETUNE_EPOCHS ?= 5
evidence: evidence-v3 evidence-v1 evidence-v2

evidence-v3: $(STAMP)
	BIN=$(BIN) PRETRAIN_N=$(PRETRAIN_N) bash experiments/evidence_v3.sh $(EXP)

evidence-v1: $(STAMP)
	$(BIN)/synthact render experiments/pretrain_frontal.yaml --out $(EXP) --pack gata
	$(BIN)/synthact render experiments/heldout.yaml --out $(EXP) --pack gata
	for run in moco_gata moco_classic supervised; do \
	  $(BIN)/synthact train experiments/$$run.yaml --shards $(EXP)/exp_pretrain_frontal/dataset --out $(EXP)/$$run && \
	  $(BIN)/synthact eval $(EXP)/$$run/last.pt --dataset $(EXP)/exp_heldout300/dataset \
	    --out $(EXP)/eval_$$run.json --finetune-epochs $(FINETUNE_EPOCHS) || exit 1; \
	done
	$(BIN)/python experiments/summarize.py $(EXP)/eval_moco_gata.json $(EXP)/eval_moco_classic.json \
	  $(EXP)/eval_supervised.json --plot $(EXP)/evidence.png

# Evidence v2: RGB input in the new look, two seeds, transfer to and from real CMU motion, and the old look at
# the same budget; PRETRAIN_N=1000 for the configs' full pretraining sets.
PRETRAIN_N ?= 600
evidence-v2: $(STAMP)
	BIN=$(BIN) PRETRAIN_N=$(PRETRAIN_N) FINETUNE_EPOCHS=0 bash experiments/evidence_v2.sh $(EXP)

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check synthact tests benchmarks experiments

# On a machine with a CUDA GPU (and a CUDA build of torch): renders on the GPU, bf16 MoCo steps; < 10 min.
bench-gpu: $(STAMP)
	$(BIN)/python benchmarks/bench_gpu.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sampler.py
	$(BIN)/python benchmarks/bench_motions.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_render.py --memory 200
	$(BIN)/python benchmarks/bench_noise.py
	$(BIN)/python benchmarks/bench_places.py
	$(BIN)/python benchmarks/bench_clean.py --n 8 --frames 16 --samples 1
	$(BIN)/python benchmarks/bench_garments.py
	$(BIN)/python benchmarks/bench_manager.py overhead --n 100000
	$(BIN)/python benchmarks/bench_manager.py throughput
	$(BIN)/python benchmarks/bench_service.py
	$(BIN)/python benchmarks/bench_eval.py
	$(BIN)/python benchmarks/bench_hostile.py
	$(BIN)/synthact render scene_configs/default.yaml --n 4 --out output/bench
	$(BIN)/python benchmarks/bench_pack.py output/bench/default
	$(BIN)/synthact pack output/bench/default --out output/bench/dataset
	$(BIN)/python benchmarks/bench_train.py output/bench/dataset
	$(BIN)/synthact render scene_configs/default.yaml --n 3 --precision float32 --out output/bench-float32
	$(BIN)/python benchmarks/bench_storage.py output/bench-float32/default
	$(BIN)/python benchmarks/bench_skeletons.py --n 1000

schema: $(STAMP)
	$(BIN)/synthact schema --out docs

clean:
	rm -rf $(VENV) output .pytest_cache .hypothesis
