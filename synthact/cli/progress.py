"""Progress bars for long commands (pack, report, train, eval): one rich bar per stage on stderr, with
throughput, elapsed time, ETA and the stage's own fields (a loss, say).

Library code stays free of terminals: it calls a plain `progress(stage, done, total, **fields)` function,
and commands pass a Bars instance.
"""
from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second of the stage since its bar appeared (per minute when slower than one a second)."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        done = task.completed - task.fields.get("first", 0)
        speed = done / task.elapsed if task.elapsed and done > 0 else None
        if not speed:
            return Text(f"- {self.unit}/s")
        return Text(f"{speed:.2f} {self.unit}/s" if speed >= 1 else f"{speed * 60:.1f} {self.unit}/min")


class Bars:
    """A context manager; calling it updates (or starts) the bar of a stage."""

    def __init__(self, unit: str = "clips", enabled: bool = True):
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  RateColumn(unit), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                  TextColumn("{task.fields[info]}"), console=Console(stderr=True),
                                  disable=not enabled)
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "Bars":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def log(self, message: str) -> None:
        """A line above the bars."""
        self._progress.console.print(message, highlight=False)

    def __call__(self, stage: str, done: int, total: int | None, **fields) -> None:
        info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
        if stage not in self._tasks:
            # a resumed job starts part-way: its rate counts only what this run does
            self._tasks[stage] = self._progress.add_task(stage, total=total, completed=done, info=info, first=done)
            return
        self._progress.update(self._tasks[stage], completed=done, total=total, info=info)
