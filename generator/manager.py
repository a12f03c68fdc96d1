"""Rendering a batch: sample SceneSpecs and render the ones not yet complete, with progress.

This is the in-process renderer (one Blender, this machine). Dispatch to Ray workers builds on it.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
    TimeRemainingColumn

from .assets import AssetRegistry
from .config import BatchConfig
from .sampler import SceneSampler


@dataclass
class BatchResult:
    folder: Path
    done: int = 0
    skipped: int = 0
    failed: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def render_batch(config: BatchConfig, registry: AssetRegistry, n: int, out: Path, console: Console | None = None,
                 previews: bool = True) -> BatchResult:
    from render_workers.clipdir import is_complete
    from render_workers.preview import contact_sheet
    from render_workers.worker import RenderWorker, SceneError

    console = console or Console(stderr=True)
    folder = Path(out) / config.batch.name
    clips, preview_dir = folder / "clips", folder / "previews"
    clips.mkdir(parents=True, exist_ok=True)
    preview_dir.mkdir(exist_ok=True)
    sampler = SceneSampler.create(config, registry)
    specs_path = folder / "specs.jsonl"
    tmp = specs_path.with_suffix(".jsonl.tmp")
    with tmp.open("w") as f:
        for line in sampler.iter_json(0, n):
            f.write(line + "\n")
    tmp.replace(specs_path)
    result = BatchResult(folder)
    worker = None
    started = time.perf_counter()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} clips/min"), TextColumn("failed {task.fields[failed]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"render {config.batch.name}", total=n, rate="-", failed=0)
        for spec in sampler.iter_specs(0, n):
            if is_complete(clips / spec.scene_id):
                result.skipped += 1
            else:
                worker = worker or RenderWorker(device=spec.render.device, registry=registry)
                try:
                    clip = worker.render(spec, clips)
                    result.done += 1
                    if previews:
                        contact_sheet(clip, preview_dir / f"{spec.scene_id}.png")
                except SceneError as exc:
                    result.failed[exc.reason] += 1
                    console.print(f"[red]{exc}")
                except Exception as exc:  # noqa: BLE001 - one broken scene must not stop the batch
                    result.failed["crash"] += 1
                    console.print(f"[red]scene {spec.scene_id}: {exc}")
            minutes = (time.perf_counter() - started) / 60
            progress.update(task, advance=1, failed=sum(result.failed.values()),
                            rate=f"{result.done / minutes:.1f}" if result.done and minutes > 0 else "-")
    result.seconds = time.perf_counter() - started
    (folder / "summary.json").write_text(json.dumps({
        "batch": config.batch.name, "requested": n, "rendered": result.done, "already_complete": result.skipped,
        "failed": dict(result.failed), "seconds": round(result.seconds, 1)}, indent=2) + "\n")
    return result
