"""Progress of long jobs (render, pack, report, train, eval) on stderr: a bar on a terminal, timestamped lines
in a log.

Library code stays free of terminals: it calls a plain `progress(stage, done, total, **fields)` function, and
commands pass a Bars instance. On a terminal each stage is one row laid out to fit 80 columns (the stage,
a bar, done/total, the rate, the ETA, failures when there are any) and its detail (a render's stage split,
a training loss) goes on a line of its own below. Elsewhere (piped to a file, CI, Ray's job logs) there is
no bar: one timestamped line when a stage starts, every `every_s` seconds (SYNTHACT_PROGRESS_EVERY_S, 30 by
default), whenever its failures grow, and when it ends.

The rate and the ETA are this run's (items done since the stage's bar appeared, over the time since): a
resumed job starts part-way, and rich's own estimate, from the last 30 s of updates, shows nothing when
updates are rarer than that (a clip a minute).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
from rich.text import Text

EVERY_S = 30.0
NAME_WIDTH = 22  # + a bar of 16, done/total, the rate, the ETA and failures: 80 columns


def every_s() -> float:
    try:
        return max(float(os.environ.get("SYNTHACT_PROGRESS_EVERY_S", EVERY_S)), 0.0)
    except ValueError:
        return EVERY_S


@dataclass
class _Stage:
    total: int | None
    first: int  # done when the stage appeared (a resumed job's earlier work)
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    skipped: int = 0  # counted in done, but found ready rather than made (clips complete on disk): not in the rate
    failed: int = 0
    detail: str = ""
    last_line: float = 0.0

    def rate(self) -> float | None:
        """Items per second this run, once there is something to measure."""
        elapsed = time.monotonic() - self.started
        made = self.done - self.first - self.skipped
        return made / elapsed if made > 0 and elapsed > 0 else None

    def eta(self) -> float | None:
        rate = self.rate()
        return None if rate is None or self.total is None else max(self.total - self.done, 0) / rate


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def rate_text(rate: float | None, unit: str) -> str:
    if rate is None:
        return f"- {unit}/min"
    return f"{rate:.2f} {unit}/s" if rate >= 1 else f"{rate * 60:.1f} {unit}/min"


class _Columns(ProgressColumn):
    """done/total is MofNCompleteColumn's; this is the rest of a row: rate, ETA, failures."""

    def __init__(self, bars: "Bars"):
        super().__init__()
        self.bars = bars

    def render(self, task) -> Text:
        stage = self.bars._stages.get(task.fields.get("stage", ""))
        if stage is None:
            return Text("")
        failed = f" failed {stage.failed}" if stage.failed else ""
        ended = stage.total is not None and stage.done >= stage.total
        when = f"in {clock(time.monotonic() - stage.started)}" if ended else f"eta {clock(stage.eta())}"
        return Text(f"{rate_text(stage.rate(), self.bars.unit)} {when}{failed}")


class _TwoLineProgress(Progress):
    """Each stage's row, then the details of the stages that have any, each on a line of its own."""

    def __init__(self, bars: "Bars", *args, **kwargs):
        self.bars = bars  # before Progress's own __init__, which renders once
        super().__init__(*args, **kwargs)

    def get_renderables(self):
        details = [Text(f"  {name}: {s.detail}", overflow="ellipsis", no_wrap=True)
                   for name, s in self.bars._stages.items() if s.detail]
        yield Group(self.make_tasks_table(self.tasks), *details)


class Bars:
    """A context manager; calling it updates (or starts) the progress of a stage."""

    def __init__(self, unit: str = "clips", enabled: bool = True, console: Console | None = None,
                 interactive: bool | None = None, every: float | None = None):
        self.unit, self.enabled = unit, enabled
        self.console = console or Console(stderr=True)
        self.interactive = self.console.is_terminal if interactive is None else interactive
        self.every = every_s() if every is None else every
        self._stages: dict[str, _Stage] = {}
        self._tasks: dict[str, int] = {}
        self._progress = _TwoLineProgress(
            self, TextColumn("[bold]{task.description}"), BarColumn(bar_width=16),
            MofNCompleteColumn(), _Columns(self), console=self.console,
            disable=not (enabled and self.interactive))

    def __enter__(self) -> "Bars":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)
        if self.enabled and not self.interactive:
            for name, stage in self._stages.items():
                if stage.total is None or stage.done < stage.total:
                    self._line(name, stage, "stopped")

    def log(self, message: str, always: bool = False) -> None:
        """A line of its own: above the bars on a terminal, timestamped in a log; a warning (`always`) is printed
        even when progress is not shown."""
        if not (self.enabled or always):
            return
        if self.interactive:
            self._progress.console.print(message, highlight=False, soft_wrap=True)
        else:
            self._print(message)

    def _print(self, message: str) -> None:
        self.console.print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}", highlight=False, soft_wrap=True)

    def _line(self, name: str, stage: _Stage, note: str = "") -> None:
        total = "?" if stage.total is None else stage.total
        failed = f", failed {stage.failed}" if stage.failed else ""
        detail = f"; {stage.detail}" if stage.detail else ""
        ended = stage.total is not None and stage.done >= stage.total
        when = f"in {clock(time.monotonic() - stage.started)}" if ended else f"eta {clock(stage.eta())}"
        self._print(f"{name}: {stage.done}/{total} {self.unit}, {rate_text(stage.rate(), self.unit)}, {when}"
                    f"{failed}{detail}{f' ({note})' if note else ''}")
        stage.last_line = time.monotonic()

    def __call__(self, stage: str, done: int, total: int | None, failed: int = 0, detail: str = "",
                 skipped: int = 0, **fields) -> None:
        info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
        detail = "  ".join(part for part in (detail, info) if part)
        known = self._stages.get(stage)
        if known is None:
            known = self._stages[stage] = _Stage(total, first=done)
            shown = stage if len(stage) <= NAME_WIDTH else stage[:NAME_WIDTH - 1] + "…"  # the row fits 80 columns
            self._tasks[stage] = self._progress.add_task(shown, total=total, completed=done, stage=stage)
        more_failures = failed > known.failed
        finished_now = total is not None and done >= total and known.done < total
        known.total, known.done, known.failed, known.detail, known.skipped = total, done, failed, detail, skipped
        self._progress.update(self._tasks[stage], completed=done, total=total)
        if not self.enabled or self.interactive:
            return
        due = time.monotonic() - known.last_line >= self.every
        if known.last_line == 0.0 or due or more_failures or finished_now:
            self._line(stage, known)
