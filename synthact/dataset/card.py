"""The dataset card: README.md in a packed dataset's folder, written by every pack from dataset.json, the index
table and the asset manifests: what is in it, under which licences, how it is split and how to load it."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from synthact.config import AssetRegistry
from synthact.config.problems import InvalidFile

# index column -> asset kind of the packs it names
ASSET_COLUMNS = {"param.actor0.body_model": "body_model", "param.actor0.motion.library": "motion_library",
                 "param.environment.hdri.pack": "hdri", "param.environment.background.pack": "backgrounds"}
MAX_LEVELS = 12  # categorical factors with more values are summarised by their most common ones
# per-clip identifiers and fields shown elsewhere on the card
NOT_FACTORS = ("_seed", "actor_index", "motion_key", "position_xy", "class_name", "modalities", "precision")


def write_card(dataset: Path, registry: AssetRegistry | None = None) -> Path:
    dataset = Path(dataset)
    manifest = json.loads((dataset / "dataset.json").read_text())
    index = pq.read_table(dataset / "index")
    sections = [_summary(manifest, index), _licences(index, registry), _splits(index),
                _classes(index), _factors(index), _loading(manifest)]
    path = dataset / "README.md"
    path.write_text(_front_matter(manifest, dataset) + "\n\n".join(sections) + "\n")
    return path


def _front_matter(manifest: dict, dataset: Path) -> str:
    """Hugging Face's dataset card metadata: `datasets.load_dataset(DATASET)` loads the index (the default) and,
    by name, the other tables. The shards are left out on purpose: HF's image feature would decode the 16-bit
    depth and flow PNGs wrong without a word (read them with webdataset and synthact.decoders)."""
    tables = [("index", "index/*.parquet"), ("frames", "frames/*.parquet"), ("positives", "positives/*.parquet"),
              ("rejections", "rejections.parquet")]
    lines = ["---", "license: other", "license_name: per-asset (see Licences below)",
             f"pretty_name: 'SynthAct {manifest['layout']} dataset'", "task_categories:", "- video-classification",
             "tags:", "- synthetic", "- human-action", "- webdataset", "configs:"]
    for name, files in tables:
        if not any(dataset.glob(files)):
            continue
        lines += [f"- config_name: {name}", f"  data_files: '{files}'"] + (["  default: true"] if name == "index"
                                                                           else [])
    return "\n".join(lines + ["---", ""]) + "\n"


def _counts(column) -> list[tuple[object, int]]:
    counts = pa.compute.value_counts(column).to_pylist()
    return sorted(((c["values"], c["counts"]) for c in counts), key=lambda vc: (-vc[1], str(vc[0])))


def _summary(manifest: dict, index: pa.Table) -> str:
    precision = sorted({str(v) for v in index.column("param.render.precision").to_pylist()}) \
        if "param.render.precision" in index.column_names else ["float32"]
    size = sum(s["bytes"] for s in manifest["shards"])
    return "\n".join([
        f"# SynthAct dataset: {', '.join(c['batch']['name'] for c in manifest['batch_configs']) or 'clips'}",
        "",
        "Synthetic human action clips rendered with Blender by SynthAct from randomized scene settings (the "
        "validated batch configs are in `dataset.json`), packed as WebDataset shards with Parquet tables. The "
        "formats are SynthAct's docs/FORMAT.md, sections 5 (clips) and 7 (datasets).",
        "",
        "| | |", "|---|---|",
        f"| layout | {manifest['layout']} |",
        f"| clips | {index.num_rows} |",
        f"| classes | {len(manifest['classes'])} |",
        f"| shards | {len(manifest['shards'])} ({size / 1e9:.2f} GB) |",
        f"| modalities | {', '.join(manifest['modalities'])} |",
        f"| depth and flow | {', '.join(precision)} (compact: 16-bit PNGs with bounded error) |",
        f"| frames per clip | {_range(index.column('frames'))} at {_range(index.column('fps'))} fps |",
        f"| software | SynthAct {manifest['software']['synthact']} |",
    ])


def _range(column) -> str:
    values = sorted(set(column.to_pylist()))
    return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"


def _licences(index: pa.Table, registry: AssetRegistry | None) -> str:
    if registry is None:
        try:
            registry = AssetRegistry.load()
        except InvalidFile:
            registry = None
    rows = ["## Licence and attribution", "",
            "The clips are synthetic: no person was recorded. They carry the licences of the assets they were "
            "made from:", "", "| asset | kind | version | licence | source |", "|---|---|---|---|---|"]
    for column, kind in ASSET_COLUMNS.items():
        if column not in index.column_names:
            continue
        for name in sorted({v for v in index.column(column).to_pylist() if v}):
            found = registry.get(kind, name) if registry else None
            if found is None:
                rows.append(f"| {name} | {kind} | ? | not declared in this machine's asset manifests | ? |")
            else:
                p = found.pack
                rows.append(f"| {name} | {kind} | {p.version} | {p.license} | {p.source} |")
    return "\n".join(rows)


def _splits(index: pa.Table) -> str:
    rows = ["## Splits", "",
            "Splits are drawn per motion (every render of a motion is in one split) and hold out bodies, grounds "
            "and camera setups as the batch config says (`splits`).", "",
            "| split | clips | classes | motions |", "|---|---|---|---|"]
    table = index.select(["split", "class_name", "motion_key"]).to_pylist()
    for split, _ in sorted(_counts(index.column("split")), key=lambda vc: str(vc[0])):
        mine = [r for r in table if r["split"] == split]
        rows.append(f"| {split} | {len(mine)} | {len({r['class_name'] for r in mine})} | "
                    f"{len({r['motion_key'] for r in mine})} |")
    return "\n".join(rows)


def _classes(index: pa.Table) -> str:
    counts = _counts(index.column("class_name"))
    listed = ", ".join(f"{name} ({n})" for name, n in counts)
    return f"## Classes\n\nClips per class (class ids in `dataset.json` `classes`): {listed}."


def _factors(index: pa.Table) -> str:
    rows = ["## Factors", "", "Scene parameters of the clips (index columns `param.*`): numbers as min / median / "
            "max, categories by count.", "", "| factor | distribution |", "|---|---|"]
    for name in index.column_names:
        if not name.startswith("param.") or name.endswith(NOT_FACTORS):
            continue
        column = index.column(name)
        if column.null_count == len(column):
            continue
        if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
            values = sorted(v for v in column.to_pylist() if v is not None)
            if values[0] == values[-1]:
                rows.append(f"| `{name[6:]}` | {values[0]:.4g} |")
            else:
                rows.append(f"| `{name[6:]}` | {values[0]:.4g} / {values[len(values) // 2]:.4g} / {values[-1]:.4g} |")
        elif pa.types.is_string(column.type) or pa.types.is_boolean(column.type):
            counts = _counts(column)
            shown = ", ".join(f"{v} {n}" for v, n in counts[:MAX_LEVELS])
            more = f", … ({len(counts) - MAX_LEVELS} more)" if len(counts) > MAX_LEVELS else ""
            rows.append(f"| `{name[6:]}` | {shown}{more} |")
    return "\n".join(rows)


def _loading(manifest: dict) -> str:
    return "\n".join([
        "## How to load", "",
        "```python",
        "import synthact, webdataset as wds, pandas as pd",
        "index = pd.read_parquet('index')                  # one row per clip: labels, split, every parameter",
        "for clip in synthact.clips('.', split='train'):   # typed arrays: clip.rgb(), clip.depth(), ...",
        "    print(clip.name, clip.rgb().shape)",
        "loader = synthact.loader('.', batch_size=8)       # a torch DataLoader; the actor axis is padded",
        "samples = wds.WebDataset(sorted(__import__('glob').glob('shards/*.tar')))  # raw bytes per member",
        "```", "",
        f"Also: `synthact export coco|mmaction|skeletons {'DATASET'} OUT`, and `report.html` "
        "(`synthact report`).",
    ])
