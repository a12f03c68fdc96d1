"""Clips per CPU-minute of whole batches, as `synthact render` runs them, for code trees and worker layouts
compared in one run (interleaved, so that the machine's other load falls on all of them alike).

  python benchmarks/bench_throughput.py --n 8 --runs new:2x1 new:1x2 old=/tmp/old:2x1 --repeat 2

A run is NAME[=TREE]:WORKERSxTHREADS; TREE is a checkout of another version (the command runs in it, so
its `synthact` is the one imported; the default is this checkout). CPU time is the sum over the process
tree of `synthact render` (manager, Ray, workers), sampled every 0.5 s. Per clip (stats.json, ledger): a
worker's first clip against its later ones, and pipeline / bare RGB render (the clip's time in the worker
over its RGB render, which the annotations overlap: --bare measures the RGB render alone).
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


def run_batch(tree: str | None, workers: int, threads: int, config: str, n: int, out: Path) -> tuple[float, dict]:
    """Wall seconds and CPU seconds ({"workers": render worker processes, "all": the whole process tree}) of
    one `synthact render`."""
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)  # a Ray of its own, never a cluster found on the machine
    cmd = [sys.executable, "-m", "synthact", "render", str(Path(config).resolve()), "--n", str(n), "--out", str(out),
           "--workers", str(workers), "--cpus-per-worker", str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=tree or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    cpu: dict[int, float] = {}
    workers_pids: set[int] = set()
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        for p in [root, *root.children(recursive=True)]:
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    cpu[p.pid] = max(cpu.get(p.pid, 0.0), t.user + t.system)
                    if any("RenderHost" in part for part in p.cmdline()):
                        workers_pids.add(p.pid)
            except psutil.Error:
                pass
        time.sleep(0.5)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return wall, {"workers": sum(cpu[p] for p in workers_pids), "all": sum(cpu.values())}


SAME_SCENE_TWICE = """
import json, shutil, sys, tempfile, time
from pathlib import Path
from synthact.config import AssetRegistry
from synthact.render.worker import RenderWorker
from synthact.scene import SceneSampler, load_batch_config
config, index, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
registry = AssetRegistry.load()
sampler = SceneSampler.create(load_batch_config(Path(config), registry), registry)
worker = RenderWorker(device="cpu", threads=threads, registry=registry)
t0 = time.perf_counter()
if hasattr(worker, "warm_up"):  # what a dispatched worker does before it takes work
    worker.warm_up(sampler.sample(0))
times = [time.perf_counter() - t0]
with tempfile.TemporaryDirectory() as tmp:
    for _ in range(2):
        t0 = time.perf_counter()
        shutil.rmtree(worker.render(sampler.sample(index), Path(tmp)))
        times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def same_scene_twice(tree: str | None, config: str, index: int, threads: int) -> list[float]:
    """[warm-up, first clip, the same clip again] seconds in one fresh worker process."""
    out = subprocess.run([sys.executable, "-c", SAME_SCENE_TWICE, str(Path(config).resolve()), str(index),
                          str(threads)], cwd=tree or ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


PIPELINE_AND_BARE = """
import json, shutil, sys, tempfile, time
from dataclasses import replace
from pathlib import Path
import numpy as np
from synthact.clip.preview import contact_sheet
from synthact.config import AssetRegistry
from synthact.render import worker as render_worker
from synthact.render.raster import AnnotationHits
from synthact.render.worker import RenderWorker
from synthact.scene import SceneSampler, load_batch_config
config, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
registry = AssetRegistry.load()
sampler = SceneSampler.create(load_batch_config(Path(config), registry), registry)
worker = RenderWorker(device="cpu", threads=threads, registry=registry)
worker.warm_up(sampler.sample(0))
ray_cast = render_worker.annotation_hits

def nothing_seen(static, surfaces, K, world_to_camera, width, height):  # the bare render: no ray cast beside it
    t = len(world_to_camera)
    return AnnotationHits(np.full((t, height, width), np.inf, np.float32), np.zeros((t, height, width), np.uint8),
                          np.full((t, height, width), -1), np.zeros((t, height, width, 3), np.float32))

rows = []
with tempfile.TemporaryDirectory() as tmp:
    for i in range(n):
        spec = sampler.sample(i)
        rgb_only = replace(spec, render=replace(spec.render, modalities=("rgb",)))
        for whole in ((True, False) if i % 2 == 0 else (False, True)):
            if whole:  # as a dispatched worker does: the clip, then its preview
                t0 = time.perf_counter()
                clip = worker.render(spec, Path(tmp))
                contact_sheet(clip, Path(tmp) / "preview.png")
                pipeline = time.perf_counter() - t0
                shutil.rmtree(clip)
            else:
                render_worker.annotation_hits = nothing_seen
                bare = worker.render_layers(rgb_only).stats["timings_s"]["render_rgb"]
                render_worker.annotation_hits = ray_cast
        rows.append([pipeline, bare])
print(json.dumps(rows))
"""


def pipeline_and_bare(args) -> None:
    """Each scene as a whole clip with its preview, and its RGB render alone (nothing beside it), alternately in
    one fresh worker per run and repeat: pipeline / bare without the overlapped work slowing the render it is
    compared with."""
    rows: dict[str, list] = defaultdict(list)
    for _ in range(args.repeat):
        for spec in args.runs:
            name_tree, layout = spec.rsplit(":", 1)
            name, _, tree = name_tree.partition("=")
            out = subprocess.run([sys.executable, "-c", PIPELINE_AND_BARE, str(Path(args.config).resolve()),
                                  str(args.n), layout.split("x")[1]], cwd=tree or ROOT, capture_output=True,
                                 text=True, check=True)
            rows[f"{name} {layout}"] += json.loads(out.stdout.strip().splitlines()[-1])
    for key, clips in rows.items():
        pipeline, bare = sum(r[0] for r in clips), sum(r[1] for r in clips)
        row(f"{args.config} x{args.n} (x{args.repeat}), {key} (workers x threads), each scene as a whole clip and as "
            f"a bare RGB render", f"pipeline / bare RGB {pipeline / bare:.2f}x",
            f"per clip: whole clip with preview {pipeline / len(clips):.2f} s, RGB render alone "
            f"{bare / len(clips):.2f} s (scenes {min(r[0] / r[1] for r in clips):.2f}x to "
            f"{max(r[0] / r[1] for r in clips):.2f}x)")


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
    parser.add_argument("--same-scene", type=int, default=None, metavar="INDEX",
                        help="instead: a fresh worker renders scene INDEX twice (first clip vs a later one)")
    parser.add_argument("--bare", action="store_true",
                        help="instead: a fresh worker renders each scene as a whole clip and as a bare RGB render")
    args = parser.parse_args()
    if args.bare:
        pipeline_and_bare(args)
        return
    if args.same_scene is not None:
        first_and_later(args)
        return
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
                totals[key]["cpu"] += cpu["all"]
                totals[key]["worker_cpu"] += cpu["workers"]
                totals[key]["clips"] += args.n
                stats[key] += clip_stats(batch)
                print(f"  {key} repeat {rep}: {wall:.0f} s wall, {cpu['all']:.0f} CPU-s ({cpu['workers']:.0f} in "
                      f"workers), load {os.getloadavg()[0]:.1f}", flush=True)
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
            f"{t['clips'] / (t['cpu'] / 60):.2f} clips per CPU-minute ({t['clips'] / (t['worker_cpu'] / 60):.2f} per "
            f"worker CPU-minute); {t['clips'] / (t['wall'] / 60):.2f} clips/min",
            f"wall {t['wall'] / args.repeat:.0f} s per batch; CPU {t['cpu'] / args.repeat:.0f} s per batch, "
            f"{t['worker_cpu'] / args.repeat:.0f} s of it in workers; first clip / later clip {ratio}; pipeline/bare "
            f"{sum(s['clip_s'] for s in clips) / bare:.2f}x (in the worker); stages per clip: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(stages.items())))


def first_and_later(args) -> None:
    runs: dict[str, list] = defaultdict(list)
    for _ in range(args.repeat):
        for spec in args.runs:
            name_tree, layout = spec.rsplit(":", 1)
            name, _, tree = name_tree.partition("=")
            runs[name].append(same_scene_twice(tree or None, args.config, args.same_scene, int(layout.split("x")[1])))
    for name, times in runs.items():
        warm, first, later = (sum(t[i] for t in times) / len(times) for i in range(3))
        row(f"{args.config} scene {args.same_scene} twice in a fresh worker, {name} (x{args.repeat})",
            f"first clip / later clip {first / later:.2f}x", f"first {first:.1f} s, later {later:.1f} s; warm-up "
            f"before the first {warm:.1f} s (worker start, outside the clip)")


if __name__ == "__main__":
    main()
