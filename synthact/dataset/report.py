"""QA report of a packed dataset: one self-contained HTML page (inline SVG plots, embedded PNG sheets)."""
from __future__ import annotations

import base64
import hashlib
import html
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

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


def bar_svg(counts: dict, width: int = 520, bar: int = 14) -> str:
    if not counts:
        return "<p>none</p>"
    top = max(counts.values())
    rows = []
    for i, (name, n) in enumerate(counts.items()):
        w = int((width - 200) * n / top)
        y = i * (bar + 4)
        rows.append(f'<text x="0" y="{y + bar - 3}" font-size="11">{html.escape(str(name))[:30]}</text>'
                    f'<rect x="190" y="{y}" width="{w}" height="{bar}" fill="#4a78c2"/>'
                    f'<text x="{195 + w}" y="{y + bar - 3}" font-size="11">{n}</text>')
    return f'<svg width="{width}" height="{len(counts) * (bar + 4)}">{"".join(rows)}</svg>'


def histogram_svg(values, bins: int = 20, width: int = 360, height: int = 120) -> str:
    values = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if values.size == 0:
        return "<p>no values</p>"
    counts, edges = np.histogram(values, bins=bins)
    top = max(counts.max(), 1)
    bw = width / bins
    bars = "".join(f'<rect x="{i * bw:.1f}" y="{height - 20 - (c / top) * (height - 30):.1f}" width="{bw - 1:.1f}" '
                   f'height="{(c / top) * (height - 30):.1f}" fill="#c2694a"/>' for i, c in enumerate(counts))
    labels = (f'<text x="0" y="{height - 5}" font-size="10">{edges[0]:.3g}</text>'
              f'<text x="{width - 40}" y="{height - 5}" font-size="10">{edges[-1]:.3g}</text>')
    return f'<svg width="{width}" height="{height}">{bars}{labels}</svg>'


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
                parts.append(f"<div><h3>{title}</h3>{histogram_svg(index[column].tolist())}</div>")
        parts.append("</div>")
    reasons = Counter(r for rs in rejections.reasons for r in rs.split(",") if r)
    parts.append("<h2>QC rejections</h2>" + bar_svg(dict(reasons.most_common())))
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
