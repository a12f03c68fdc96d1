"""QA report of a packed dataset: one self-contained HTML page (matplotlib's charts as inline SVG, embedded PNG
sheets)."""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
from collections import Counter
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from synthact.clip import ClipReader
from synthact.clip.preview import frame_strip

from .shards import read_sample

NUMERIC = [
    ("Camera distance (m)", "measured.camera_distance_m"), ("Camera height (m)", "measured.camera_height_m"),
    ("Camera yaw (deg)", "param.camera.yaw_deg"), ("Focal length (mm)", "param.camera.focal_length_mm"),
    ("Sun elevation (deg)", "param.environment.sun_elevation_deg"),
    ("Sun azimuth (deg)", "param.environment.sun_azimuth_deg"),
    ("Weather intensity", "param.environment.weather_intensity"),
    ("Body: gender (0 male, 1 female)", "param.actor0.shape.gender"), ("Body: age", "param.actor0.shape.age"),
    ("Body: height", "param.actor0.shape.height"), ("Body: weight", "param.actor0.shape.weight"),
    ("Skin tone (Monk 1-10)", "param.actor0.skin_tone_monk"), ("Visible share of the image", "qc.visible_fraction"),
]
CATEGORICAL = [("Split", "split"), ("Weather", "param.environment.weather"), ("Ground", "param.environment.ground"),
               ("Camera motion", "param.camera.motion.type"), ("Sky", "param.environment.sky")]


def _svg(figure: Figure) -> str:
    """The figure as inline SVG: text kept as text (selectable, searchable), stable ids, and no XML prolog or
    namespace declarations (HTML's parser supplies them), so the page names no URL and fetches nothing."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "synthact-report", "font.size": 9}):
        figure.savefig(buffer, format="svg", bbox_inches="tight",
                       metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    return re.sub(r'\sxmlns(:xlink)?="[^"]*"', "", text[text.index("<svg"):])


def bar_svg(counts: dict, xlabel: str = "clips") -> str:
    """Horizontal bars, one per key (first on top), with their counts."""
    if not counts:
        return "<p>none</p>"
    names = [str(name)[:32] for name in counts]
    figure = Figure(figsize=(5.2, 0.3 + 0.22 * len(counts)))
    axes = figure.add_subplot()
    bars = axes.barh(range(len(counts)), list(counts.values()), color="#4a78c2")
    axes.bar_label(bars, padding=2)
    axes.set_yticks(range(len(counts)), names)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # clips come whole
    axes.margins(x=0.12)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def histogram_svg(values, xlabel: str = "", bins: int = 20) -> str:
    values = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if values.size == 0:
        return "<p>no values</p>"
    figure = Figure(figsize=(3.6, 1.6))
    axes = figure.add_subplot()
    axes.hist(values, bins=bins, color="#c2694a")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("clips")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def clip_sheet(sample: dict) -> str:
    """A strip of frames with COCO skeletons, as a base64 PNG."""
    strip = frame_strip(ClipReader.from_sample(sample))
    ok, png = cv2.imencode(".png", cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
    return base64.b64encode(png.tobytes()).decode()


def _quiet(stage: str, done: int, total: int, **fields) -> None:
    pass


def write_report(dataset: Path, out: Path | None = None, sheets: int = 6, progress=_quiet) -> Path:
    """progress(stage, done, total): called as sample sheets are drawn (the slow part)."""
    dataset = Path(dataset)
    manifest = json.loads((dataset / "dataset.json").read_text())
    index = pd.read_parquet(dataset / "index") if (dataset / "index").is_dir() else pd.DataFrame()
    rejections = pd.read_parquet(dataset / "rejections.parquet") if (dataset / "rejections.parquet").exists() \
        else pd.DataFrame(columns=["reasons"])
    parts = [f"<h1>SynthAct dataset report</h1><p>{html.escape(str(dataset))} &mdash; layout "
             f"<b>{manifest['layout']}</b>, {manifest['counts']['clips']} clips in {len(manifest['shards'])} shards, "
             f"{len(manifest['classes'])} classes, {len(rejections)} clips rejected by QC in the last pack.</p>"]
    if len(index):
        classes = Counter(index.class_name)
        shown = dict(classes.most_common(40))
        if len(classes) > 40:
            shown["(other classes)"] = sum(classes.values()) - sum(shown.values())
        parts.append("<h2>Clips per class</h2>" + bar_svg(shown))
        parts.append("<h2>Scene factors</h2><div class='grid'>")
        for title, column in CATEGORICAL:
            if column in index:
                parts.append(f"<div><h3>{title}</h3>{bar_svg(dict(Counter(index[column]).most_common()))}</div>")
        for title, column in NUMERIC:
            if column in index:
                parts.append(f"<div><h3>{title}</h3>{histogram_svg(index[column].tolist(), title)}</div>")
        parts.append("</div>")
    reasons = Counter(r for rs in rejections.reasons for r in rs.split(",") if r)
    parts.append("<h2>QC rejections</h2>" + bar_svg(dict(reasons.most_common()), "clips rejected for it"))
    if len(index):
        picks = sorted(index.itertuples(), key=lambda r: hashlib.blake2b(r.scene_id.encode()).hexdigest())[:sheets]
        parts.append("<h2>Sample clips</h2>")
        for done, row in enumerate(picks, 1):
            sample = read_sample(dataset / "shards" / row.shard, row.scene_id, int(row.offset))
            if ClipReader.from_sample(sample).has("rgb"):
                parts.append(f"<p>{html.escape(row.class_name)} &middot; {row.scene_id} &middot; {row.split}</p>"
                             f"<img src='data:image/png;base64,{clip_sheet(sample)}'/>")
            progress("report sheets", done, len(picks))
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>SynthAct report</title><style>"
            "body{font-family:sans-serif;margin:2em}.grid{display:flex;flex-wrap:wrap;gap:1.5em}"
            "h3{font-size:0.95em;margin:0.2em 0}</style></head><body>" + "".join(parts) + "</body></html>")
    out = Path(out) if out else dataset / "report.html"
    out.write_text(page)
    return out
