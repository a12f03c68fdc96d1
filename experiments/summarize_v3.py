"""The tables and the chart of docs/EXPERIMENTS.md's evidence v3, drawn from the eval JSONs alone.

  python experiments/summarize_v3.py docs/evidence [--plot docs/evidence_v3.png]

Each run (v3_<run>_s<seed>.json) gives one row per seed: top-1 with its 95% Wilson interval, the mean of three
random networks, the gain over them with its bootstrap interval over motions, and the majority-class rate.
Then per run, over seeds: the mean, the seed-to-seed spread, and the gain over random pooled over seeds (each
test clip's correctness averaged over the seeds, the motions resampled). Last, run against run (GATA against
classic pairs) the same way. Nothing here is chosen on the test split: the probe's C was chosen on val.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from synthact.train.evaluate import bootstrap_difference  # noqa: E402

METRICS = {"linear_top1": "linear", "knn_top1": "knn"}


def load(folder: Path, prefixes: list[str]) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}
    for path in [p for prefix in prefixes for p in sorted(folder.glob(f"{prefix}*.json"))]:
        m = re.fullmatch(r"(.+)_s(\d+)", path.stem)
        if not m:
            continue
        record = json.loads(path.read_text())
        record["seed"] = int(m.group(2))
        runs.setdefault(m.group(1), []).append(record)
    return runs


def correctness(record: dict, probe: str) -> tuple[dict, dict, dict]:
    """id -> 1/0 for the model, id -> mean over the random networks, id -> group."""
    model = {p["id"]: float(p[probe] == p["label"]) for p in record["predictions"]}
    rand = {p["id"]: float(np.mean([r == p["label"] for r in p[f"random_{probe}"]])) for p in record["predictions"]}
    return model, rand, {p["id"]: p["group"] for p in record["predictions"]}


def pooled(records: list[dict], probe: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Each test clip's correctness averaged over seeds (model) and over seeds and random networks."""
    ids = sorted(records[0]["predictions"][i]["id"] for i in range(len(records[0]["predictions"])))
    model = np.mean([[correctness(r, probe)[0][i] for i in ids] for r in records], 0)
    rand = np.mean([[correctness(r, probe)[1][i] for i in ids] for r in records], 0)
    groups = correctness(records[0], probe)[2]
    return model, rand, [groups[i] for i in ids]


def cell(value: float, ci: list[float]) -> str:
    return f"{value:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--only", action="append", help="only the JSONs whose names start with this (repeatable: runs "
                                                    "scored on the same test set, compared with each other)")
    args = ap.parse_args()
    runs = load(args.folder, args.only or [""])
    if not runs:
        sys.exit(f"{args.folder}: no eval JSONs named <run>_s<seed>.json")
    first = next(iter(runs.values()))[0]
    print(f"{first['test_clips']} test clips ({first['test_groups']} motions) of {first['classes']} classes; "
          f"majority class {first['majority_top1']:.3f}; probe C chosen on {first['val_clips']} val clips "
          f"({first['splits_from'].get('val', '')}); {len(first['random_init']['inits'])} random networks\n")
    print("| run | seed | step | linear top-1 | random (mean of 3) | gain [bootstrap over motions] | kNN top-1 | "
          "retrieval top-1 | C |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run, records in runs.items():
        for r in sorted(records, key=lambda r: r["seed"]):
            g = r["gain_over_random"]["linear_top1"]
            retrieval = r["model"].get("retrieval_top1")
            gain = f"{g['value']:+.3f} [{g['ci95'][0]:+.2f}, {g['ci95'][1]:+.2f}]"
            print(f"| {run} | {r['seed']} | {r['checkpoint']['step']} | "
                  f"{cell(r['model']['linear_top1'], r['model']['linear_top1_ci95'])} | "
                  f"{r['random_init']['linear_top1']:.3f} | {gain} | "
                  f"{cell(r['model']['knn_top1'], r['model']['knn_top1_ci95'])} | "
                  f"{'-' if retrieval is None else cell(retrieval, r['model']['retrieval_top1_ci95'])} | "
                  f"{r['model']['linear_C']} |")
    print("\nOver seeds (mean ± standard deviation of the seeds; the pooled gain averages each test clip over the "
          "seeds and resamples motions):\n")
    print("| run | seeds | linear top-1 | pooled linear gain over random | kNN top-1 | pooled kNN gain | retrieval |")
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for run, records in runs.items():
        row = [run, str(len(records))]
        for metric, probe in METRICS.items():
            values = [r["model"][metric] for r in records]
            model, rand, groups = pooled(records, probe)
            ci = bootstrap_difference(model, rand, groups)
            summary.setdefault(run, {})[metric] = (np.mean(values), np.std(values, ddof=1) if len(values) > 1 else 0,
                                                  float(model.mean() - rand.mean()), ci)
            row += [f"{np.mean(values):.3f} ± {summary[run][metric][1]:.3f}",
                    f"{model.mean() - rand.mean():+.3f} [{ci[0]:+.2f}, {ci[1]:+.2f}]"]
        retrieval = [r["model"]["retrieval_top1"] for r in records if r["model"].get("retrieval_top1") is not None]
        row.append(f"{np.mean(retrieval):.3f} ± {np.std(retrieval, ddof=1) if len(retrieval) > 1 else 0:.3f}"
                   if retrieval else "-")
        print("| " + " | ".join(row) + " |")
    names = list(runs)
    if len(names) >= 2:
        print("\nRun against run (each test clip averaged over seeds; motions resampled):\n")
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                for metric, probe in METRICS.items():
                    ma, _, groups = pooled(runs[a], probe)
                    mb, _, _ = pooled(runs[b], probe)
                    ci = bootstrap_difference(ma, mb, groups)
                    print(f"- {a} − {b}, {metric}: {ma.mean() - mb.mean():+.3f} [{ci[0]:+.2f}, {ci[1]:+.2f}]")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(2.2 * len(names) + 2, 3.4), dpi=110)
        for k, run in enumerate(names):
            for j, (metric, colour) in enumerate((("linear_top1", "#4a78c2"), ("knn_top1", "#8fb0e0"))):
                seeds = [r["model"][metric] for r in runs[run]]
                x = k + (j - 0.5) * 0.35
                ax.bar(x, np.mean(seeds), 0.33, color=colour, label=METRICS[metric] if k == 0 else None)
                ax.scatter([x] * len(seeds), seeds, color="black", s=10, zorder=3)
            rand = np.mean([r["random_init"]["linear_top1"] for r in runs[run]])
            ax.hlines(rand, k - 0.4, k + 0.4, color="#777777", ls=":", label="random (linear)" if k == 0 else None)
        ax.axhline(first["majority_top1"], color="#aa3333", lw=1, ls="--", label="majority class")
        ax.set_xticks(range(len(names)), [n.replace("_", "\n", 2) for n in names], fontsize=7)
        ax.set_ylabel("test top-1 (dots: seeds)")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.plot)


if __name__ == "__main__":
    main()
