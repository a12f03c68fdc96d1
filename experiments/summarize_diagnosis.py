"""The diagnosis round's table (docs/EXPERIMENTS.md, RGB: diagnosis) from each variant's per-step log: the gap
between the cosine with the positive and with the queue (a 10-step running mean, so one batch's noise does not
make a peak), its peak once the queue is full (before, it holds the random initial keys) and where, and where
the run ends.

    python experiments/summarize_diagnosis.py output/experiment/diagnosis [--copy docs/evidence]
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

SMOOTH = 10  # steps in the running mean


def row(metrics: Path) -> str:
    steps = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    config = json.loads((metrics.parent / "config.json").read_text())
    full = -(-config["queue_size"] // config["batch_size"])  # steps until the queue holds only real keys
    positive = np.array([s["cosine_positive"] for s in steps])
    queue = np.array([s["cosine_negative"] for s in steps])
    kernel = np.ones(SMOOTH) / SMOOTH
    gap = np.convolve(positive - queue, kernel, mode="valid")
    peak = full + int(np.argmax(gap[full:]))
    end_queue = float(np.mean(queue[-SMOOTH:]))
    return (f"| {metrics.parent.name} | {gap[peak]:.2f} (step {peak + SMOOTH}) | {gap[-1]:.2f} (step {len(steps)}) | "
            f"{end_queue:.2f} | {np.mean([s['loss'] for s in steps[-SMOOTH:]]):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="The diagnosis runs' folder (one subfolder per variant).")
    parser.add_argument("--copy", type=Path, help="Copy each run's metrics.jsonl here as diagnosis_<variant>.jsonl.")
    args = parser.parse_args()
    runs = sorted(args.folder.glob("*/metrics.jsonl"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise SystemExit(f"{args.folder}: no runs with a metrics.jsonl")
    print(f"| variant | cosine gap (positive − queue, {SMOOTH}-step mean), peak | at the end | queue cosine at "
          f"the end | loss at the end |")
    print("|---|---|---|---|---|")
    for metrics in runs:
        print(row(metrics))
        if args.copy:
            shutil.copy(metrics, args.copy / f"diagnosis_{metrics.parent.name}.jsonl")


if __name__ == "__main__":
    main()
