"""Clips per CPU-minute of whole batches, as `synthact render` runs them, for code trees and worker layouts
compared in one run (interleaved, so that the machine's other load falls on all of them alike).

  python benchmarks/bench_throughput.py --n 8 --runs new:2x1 new:1x2 old=/tmp/old:2x1 --repeat 2

A run is NAME[=TREE]:WORKERSxTHREADS; TREE is a checkout of another version (the command runs in it, so
its `synthact` is the one imported; the default is this checkout). CPU time is the sum over the process
tree of `synthact render` (manager, Ray, workers), sampled every 0.5 s. Per clip (stats.json, ledger): a
worker's first clip against its later ones, and pipeline / bare RGB render (the clip's time in the worker
over its RGB render loop).
Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def run_batch(tree: str | None, workers: int, threads: int, config: str, n: int, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process tree) of one `synthact render`."""
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)  # a Ray of its own, never a cluster found on the machine
    cmd = [sys.executable, "-m", "synthact", "render", str(Path(config).resolve()), "--n", str(n), "--out", str(out),
           "--workers", str(workers), "--cpus-per-worker", str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=tree or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    cpu: dict[int, float] = {}
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                with p.oneshot():
                    t = p.cpu_times()
                    cpu[p.pid] = max(cpu.get(p.pid, 0.0), t.user + t.system)
        except psutil.Error:
            pass
        time.sleep(0.5)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return wall, sum(cpu.values())


def clip_stats(batch: Path) -> list[dict]:
    """Each clip's stats.json, with clip_s: its time in the worker, writing and preview included (ledger)."""
    seconds = {}
    for segment in (batch / "ledger").glob("*.jsonl"):
        for line in segment.read_text().splitlines():
            event = json.loads(line)
            if event["outcome"] == "done":
                seconds[event["scene_id"]] = event["seconds"]
    stats = []
    for path in (batch / "clips").glob("*/stats.json"):
        s = json.loads(path.read_text())
        s["clip_s"] = seconds[s["scene_id"]]
        stats.append(s)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="scene_configs/default.yaml")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--runs", nargs="+", default=["new:2x1", "new:1x2"])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    totals: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    stats: dict[str, list] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        for rep in range(args.repeat):
            for spec in args.runs:
                name_tree, layout = spec.rsplit(":", 1)
                name, _, tree = name_tree.partition("=")
                workers, threads = (int(x) for x in layout.split("x"))
                out = Path(tmp) / f"{name}-{layout}-{rep}"
                wall, cpu = run_batch(tree or None, workers, threads, args.config, args.n, out)
                batch = next(p for p in out.iterdir() if p.is_dir())
                key = f"{name} {layout}"
                totals[key]["wall"] += wall
                totals[key]["cpu"] += cpu
                totals[key]["clips"] += args.n
                stats[key] += clip_stats(batch)
                print(f"  {key} repeat {rep}: {wall:.0f} s wall, {cpu:.0f} CPU-s, load {os.getloadavg()[0]:.1f}",
                      flush=True)
    for key, t in totals.items():
        clips = stats[key]
        first = [s["clip_s"] for s in clips if s["scenes_rendered_by_worker"] == 1]
        later = [s["clip_s"] for s in clips if s["scenes_rendered_by_worker"] > 1]
        bare = sum(s["timings_s"]["render_rgb"] for s in clips)
        stages = defaultdict(float)
        for s in clips:
            for k, v in s["timings_s"].items():
                stages[k] += v / len(clips)
        ratio = f"{(sum(first) / len(first)) / (sum(later) / len(later)):.2f}x" if first and later else "-"
        row(f"{args.config} x{args.n} (x{args.repeat}), {key} (workers x threads)",
            f"{t['clips'] / (t['cpu'] / 60):.2f} clips per CPU-minute; {t['clips'] / (t['wall'] / 60):.2f} clips/min",
            f"wall {t['wall'] / args.repeat:.0f} s per batch; first clip / later clip {ratio}; pipeline/bare "
            f"{sum(s['clip_s'] for s in clips) / bare:.2f}x (in the worker); stages per clip: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(stages.items())))


if __name__ == "__main__":
    main()
