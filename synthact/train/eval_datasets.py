"""The datasets an evaluation reads, as a catalogue of items (source, label, group, split), found without
decoding anything, and refused with a reason when their splits could not give an honest score.

Layouts, looked for in this order:
- a packed SynthAct dataset (dataset.json; splits from the SceneSpec, groups = motions, trials = recordings);
- UCF101's official layout: the videos in class folders (ROOT, ROOT/UCF-101 or ROOT/UCF101) and the split
  files classInd.txt, trainlist0N.txt and testlist0N.txt (ucfTrainTestlist/) anywhere below ROOT; groups are
  the v_<Class>_gNN recordings, whose clips UCF keeps in one split;
- HMDB51's official layout: class folders and the split files <class>_test_splitN.txt (1 train, 2 test, 0
  unused); groups are a video's name without its trailing clip number;
- ROOT/<split>/<class>/<video> (a synapt dataset's videos/ folder);
- ROOT/<class>/<video>, split by a stable hash of the group (FLAT_TEST_SHARE of the groups in test).

The official splits have no validation split: VAL_SHARE of the train groups (by a stable hash) become `val`,
where the probe's regularisation is chosen, so that `test` is only ever scored.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .data import SPLIT_FOLDERS, VIDEO_SUFFIXES, has_split_folders

FLAT_TEST_SHARE = 0.3  # ROOT/<class>/<video>: the share of groups held out for testing
VAL_SHARE = 0.2  # of the train groups, when the layout gives no val split
MIN_TEST_CLIPS = 20  # fewer, and a top-1's 95% interval is wider than about +-0.2
LAYOUTS = ("a packed SynthAct dataset (dataset.json)", "UCF101 (classInd.txt, trainlist0N.txt, testlist0N.txt)",
           "HMDB51 (<class>_test_splitN.txt)", "ROOT/<split>/<class>/<video>", "ROOT/<class>/<video>")


class EvaluationRefused(ValueError):
    """The evaluation could not mean anything; the message says why and what would fix it."""


@dataclass
class Item:
    source: str  # a scene id (packed) or a video path
    label: str
    group: str  # what never crosses splits and what a bootstrap resamples: a motion, a recording
    split: str  # train, val, test (or unused)
    trial: str | None = None  # the recorded trial a motion comes from, where there is one


@dataclass
class Catalogue:
    root: Path
    layout: str  # packed, ucf101, hmdb51, split_folders, class_folders
    items: list[Item]
    notes: dict = field(default_factory=dict)  # how the splits were made (recorded in eval.json)

    @property
    def packed(self) -> bool:
        return self.layout == "packed"

    def of(self, *splits: str) -> list[Item]:
        return [item for item in self.items if item.split in splits]


def stable_share(text: str) -> float:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") / 2**64


def video_files(root: Path, depth: int) -> list[Path]:
    pattern = "/".join(["*"] * depth)
    return sorted(p for p in root.glob(pattern) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def _find(root: Path, name_pattern: str, depth: int = 3) -> list[Path]:
    found = []
    for level in range(depth + 1):
        found += sorted(p for p in root.glob("/".join(["*"] * level + [name_pattern])) if p.is_file())
        if found:
            return found
    return found


def catalogue(root: Path, fold: int = 1) -> Catalogue:
    """The items of the dataset at root in the first layout it matches (see the module doc); refuses a folder in
    no known layout, split files naming missing videos, and splits that share a group or a trial."""
    root = Path(root)
    if not root.is_dir():
        raise EvaluationRefused(f"{root}: not a folder")
    if (root / "dataset.json").is_file():
        cat = _packed(root)
    elif _find(root, "classInd.txt"):
        cat = _ucf101(root, _find(root, "classInd.txt")[0].parent, fold)
    elif _find(root, f"*_test_split{fold}.txt"):
        cat = _hmdb51(root, _find(root, f"*_test_split{fold}.txt"), fold)
    elif has_split_folders(root):
        videos = video_files(root, 3)
        cat = Catalogue(root, "split_folders", [Item(str(v), v.parent.name, _group(v.relative_to(root)),
                                                     v.parent.parent.name) for v in videos])
    else:
        videos = video_files(root, 2)
        items = []
        for v in videos:
            group = _group(v.relative_to(root))
            items.append(Item(str(v), v.parent.name, group, "test" if stable_share(group) < FLAT_TEST_SHARE
                              else "train"))
        cat = Catalogue(root, "class_folders", items, {"test": f"{FLAT_TEST_SHARE:.0%} of the groups by a stable hash"})
    if not cat.items:
        raise EvaluationRefused(f"{root}: no videos or clips in any known layout (looked for {'; '.join(LAYOUTS)})")
    _carve_val(cat)
    check_disjoint(cat)
    return cat


def _group(relative: Path, clip_number: str = r"_c\d+") -> str:
    """A video's recording: its path without a trailing clip number (UCF101's _cNN; HMDB51's _N), so that the
    clips cut from one recording never straddle train and test."""
    return (relative.parent / re.sub(clip_number + "$", "", relative.stem)).as_posix()


def _packed(root: Path) -> Catalogue:
    import pyarrow.parquet as pq
    table = pq.read_table(root / "index")
    names = table.schema.names
    columns = ["scene_id", "class_name", "motion_key", "split"] + [c for c in ("library", "clip_id") if c in names]
    rows = sorted(table.select(columns).to_pylist(), key=lambda r: r["scene_id"])

    def trial(row: dict) -> str | None:  # a recording; procedural motions are their own (class, instance)
        if not row.get("clip_id") or row.get("library", "procedural") == "procedural":
            return None
        return f"{row['library']}/{row['clip_id']}"
    return Catalogue(root, "packed", [Item(r["scene_id"], r["class_name"], r["motion_key"], r["split"], trial(r))
                                      for r in rows])


def _videos_root(root: Path, classes: list[str]) -> Path:
    for candidate in (root, root / "UCF-101", root / "UCF101", root / "videos", root / "hmdb51"):
        if any((candidate / c).is_dir() for c in classes):
            return candidate
    return root


def _missing(kind: str, missing: list[str], total: int) -> None:
    if missing:
        raise EvaluationRefused(f"{kind}: {len(missing)} of the {total} videos its split files name do not exist "
                                f"(e.g. {', '.join(missing[:3])}); download the whole dataset or fix the path")


def _ucf101(root: Path, lists: Path, fold: int) -> Catalogue:
    if not 1 <= fold <= 3:
        raise EvaluationRefused(f"UCF101 has folds 1 to 3, not {fold}")
    classes = [line.split()[1] for line in (lists / "classInd.txt").read_text().splitlines() if line.strip()]
    videos = _videos_root(root, classes)
    items, missing, total = [], [], 0
    for split, name in (("train", f"trainlist0{fold}.txt"), ("test", f"testlist0{fold}.txt")):
        path = lists / name
        if not path.is_file():
            raise EvaluationRefused(f"{lists}: UCF101 split file {name} not found beside classInd.txt")
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            relative = line.split()[0].replace("\\", "/")
            total += 1
            video = videos / relative
            if not video.is_file():
                missing.append(relative)
                continue
            label = relative.split("/")[0]
            items.append(Item(str(video), label, _group(Path(relative)), split))
    _missing(f"UCF101 fold {fold} ({lists})", missing, total)
    return Catalogue(root, "ucf101", items, {"fold": fold, "split_files": str(lists)})


def _hmdb51(root: Path, split_files: list[Path], fold: int) -> Catalogue:
    names = {p.name.removesuffix(f"_test_split{fold}.txt"): p for p in split_files}
    videos = _videos_root(root, list(names))
    items, missing, total = [], [], 0
    for label, path in sorted(names.items()):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                continue
            if parts[1] == "0":
                continue
            total += 1
            video = videos / label / parts[0]
            if not video.is_file():
                missing.append(f"{label}/{parts[0]}")
                continue
            items.append(Item(str(video), label, _group(Path(label) / parts[0], r"_\d+"),
                              "train" if parts[1] == "1" else "test"))
    _missing(f"HMDB51 split {fold} ({split_files[0].parent})", missing, total)
    return Catalogue(root, "hmdb51", items, {"fold": fold, "split_files": str(split_files[0].parent)})


def _carve_val(cat: Catalogue) -> None:
    """A val split from VAL_SHARE of the train groups (of the train trials, where clips come from recorded
    trials: a trial's windows are several motions, and none may straddle train and val), where the layout
    gives none."""
    if any(item.split == "val" for item in cat.items):
        cat.notes.setdefault("val", "the dataset's own")
        return
    for item in cat.items:
        if item.split == "train" and stable_share("val/" + (item.trial or item.group)) < VAL_SHARE:
            item.split = "val"
    cat.notes["val"] = f"{VAL_SHARE:.0%} of the train groups (trials, where clips have one) by a stable hash"


def check_disjoint(cat: Catalogue) -> None:
    """Refuses splits that share a group (a motion, a recording) or a recorded trial: a held-out score would
    then be partly same-motion matching."""
    shared = {}
    for kind, key in (("motions" if cat.packed else "recordings", lambda i: i.group), ("trials", lambda i: i.trial)):
        splits: dict[str, set] = {}
        for item in cat.items:
            if key(item) is not None and item.split in SPLIT_FOLDERS:
                splits.setdefault(key(item), set()).add(item.split)
        crossing = sorted(k for k, s in splits.items() if len(s) > 1)
        if crossing:
            shared[kind] = crossing
    if shared:
        counts = " and ".join(f"{len(keys)} {kind}" for kind, keys in shared.items())
        key = next(iter(shared.values()))[0]
        where = sorted({i.split for i in cat.items if key in (i.group, i.trial)})
        example = f"{key} in {' and '.join(where)}"
        raise EvaluationRefused(f"the splits share {counts} (e.g. {example}): a held-out score would partly be "
                                f"same-motion matching; re-render with splits by trial or subject (docs/FORMAT.md, "
                                f"Splits)")


def check_scorable(cat: Catalogue, split: str = "test") -> None:
    """Refuses when a top-1 on `split` could not mean anything."""
    labels = {s: [i.label for i in cat.items if i.split == s] for s in SPLIT_FOLDERS}
    if not labels[split]:
        raise EvaluationRefused(f"no {split} clips: the dataset has no {split} split, so every clip would be scored "
                                f"by a classifier fitted on it; render with splits (splits.{split} above 0 in the "
                                f"batch config, as in scene_configs/synapt.yaml)")
    if not labels["train"]:
        raise EvaluationRefused("no train clips to fit the probe on")
    trained = set(labels["train"])
    tested = sorted(set(labels[split]))
    unseen = [label for label in tested if label not in trained]
    if unseen:
        raise EvaluationRefused(f"{len(unseen)} of the {len(tested)} {split} classes have no train clips "
                                f"({', '.join(unseen[:3])}{', ...' if len(unseen) > 3 else ''}): no classifier can "
                                f"name them; render more clips per class (policy: balanced) or evaluate on "
                                f"another dataset")
    if len(tested) < 2:
        raise EvaluationRefused(f"the {split} clips are all of one class ({tested[0]}): any top-1 would be 1.0")
    if len(labels[split]) < MIN_TEST_CLIPS:
        raise EvaluationRefused(f"only {len(labels[split])} {split} clips (at least {MIN_TEST_CLIPS} are needed: a "
                                f"top-1 over fewer has a 95% interval wider than about +-0.2); render more clips")
