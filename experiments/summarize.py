"""Collect the eval.json of several runs into a Markdown table and one comparison chart.

  python experiments/summarize.py OUT/eval_gata.json OUT/eval_classic.json ... --plot OUT/evidence.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

METRICS = ("knn_top1", "linear_top1", "finetune_top1", "retrieval_top1")


def rows(paths: list[Path]) -> list[tuple[str, dict]]:
    """(model name, metrics) per run, each run after the random network it was scored against; runs on
    another input (RGB, frame differences) have another random network, shown before the first of them."""
    runs = [(p.stem.removeprefix("eval_"), json.loads(p.read_text())) for p in paths]
    several = len({json.dumps(m["random_init"], sort_keys=True) for _, m in runs}) > 1
    out, seen = [], []
    for name, metrics in runs:
        if metrics["random_init"] not in seen:
            seen.append(metrics["random_init"])
            out.append((f"random init ({name}'s input)" if several else "random init", metrics["random_init"]))
        out.append((name, metrics["model"]))
    return out


def table(entries: list[tuple[str, dict]]) -> str:
    shown = [m for m in METRICS if any(m in e for _, e in entries)]
    lines = ["| model | " + " | ".join(shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for name, e in entries:
        lines.append(f"| {name} | " + " | ".join(cell(e, m) for m in shown) + " |")
    return "\n".join(lines)


def cell(e: dict, metric: str) -> str:
    """The value with its 95% interval when the eval recorded one."""
    if e.get(metric) is None:
        return "–"
    interval = e.get(f"{metric}_ci95")
    return f"{e[metric]:.3f}" + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")


def plot(entries: list[tuple[str, dict]], path: Path) -> None:
    """Grouped bars per metric (random networks grey), the legend one line per run below."""
    from PIL import Image, ImageDraw
    shown = [m for m in METRICS if any(m in e for _, e in entries)]
    palette = [(74, 120, 194), (230, 140, 60), (90, 170, 90), (170, 90, 170), (200, 80, 80), (60, 160, 170)]
    models = iter(palette * len(entries))
    colours = [(190, 190, 190) if name.startswith("random init") else next(models) for name, _ in entries]
    bar, gap = 26, 30
    width = max(40 + len(shown) * (len(entries) * bar + gap), 420)
    img = Image.new("RGB", (width, 240 + 14 * len(entries)), "white")
    d = ImageDraw.Draw(img)
    for i, metric in enumerate(shown):
        x0 = 30 + i * (len(entries) * bar + gap)
        for j, (_, e) in enumerate(entries):
            value = e.get(metric) or 0.0
            x = x0 + j * bar
            d.rectangle([x, 210 - int(180 * value), x + bar - 4, 210], fill=colours[j])
            d.text((x, 198 - int(180 * value)), f"{value:.2f}".lstrip("0"), fill=(0, 0, 0))
        d.text((x0, 215), metric, fill=(0, 0, 0))
    for j, (name, _) in enumerate(entries):
        y = 234 + 14 * j
        d.rectangle([10, y, 20, y + 10], fill=colours[j])
        d.text((26, y - 1), name, fill=(0, 0, 0))
    img.save(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("evals", nargs="+", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    entries = rows(args.evals)
    print(table(entries))
    if args.plot:
        plot(entries, args.plot)


if __name__ == "__main__":
    main()
