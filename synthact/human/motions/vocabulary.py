"""The action vocabulary that recorded motions are labelled with, and where descriptions come from.

A source's own words (CMU's per-trial descriptions, or a label file's) are mapped to labels by the
patterns below: every label whose pattern occurs in a description is one of its labels, and the one
mentioned first is its class. A description that names none of them is `unlabelled`; nothing is
guessed from anywhere else. Label names equal the procedural taxonomy's class or family names where the
action is the same (walk, run, jump, kick, punch, wave, sit_down, ...); `PROCEDURAL_FAMILIES` says which.
"""
from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

UNLABELLED = "unlabelled"


@dataclass(frozen=True)
class Label:
    name: str
    pattern: str  # a regular expression over the normalised description (lower case, words split)
    covers: str  # what the label means, for the documentation


# Order matters twice: multi-word labels come first (their words are then taken), and on a tie the
# earlier label wins. Patterns are matched at word starts.
VOCABULARY: tuple[Label, ...] = (
    Label("jumping_jacks", r"jumping jacks?", "jumping jacks"),
    Label("pick_up", r"pick(s|ed|ing)?( \w+)? up", "picking something up"),
    Label("sit_down", r"sit(s|ting)?\b|seated|sat\b", "sitting down, sitting"),
    Label("stand_up", r"(stand(s|ing)?|get(s|ting)?|gets) up|rise(s)? from", "standing up, getting up"),
    Label("lie_down", r"li(e|es|ing)\b|lying\b|lay(s|ing)? (down|on|back)\b|laid\b|reclin",
          "lying down, lying (on the floor; a lie on something raised is not sampled)"),
    Label("look_around", r"look(s|ing)? around", "looking around"),
    Label("martial_arts", r"martial arts?|karate|kung fu|tai ?chi|taekwondo|block(s|ing)?\b",
          "martial arts, tai chi, blocks"),
    Label("walk", r"walk|stroll|wander|limp|sneak|stride", "walking in any style or direction"),
    Label("run", r"run|jog|sprint", "running, jogging"),
    Label("hop", r"hop(s|ping|scotch)?\b", "hopping on one or both feet, hopscotch"),
    Label("jump", r"jump|leap", "jumping"),
    Label("skip", r"skip(s|ping)?\b", "skipping"),
    Label("gallop", r"gallop", "galloping"),
    Label("march", r"march", "marching"),
    Label("kick", r"kick", "kicking"),
    Label("punch", r"punch|boxing|boxer|jab(s|bing)?\b|uppercut", "punching, boxing"),
    Label("swordplay", r"sword|fenc(e|ing)\b|saber|sabre", "sword fighting, fencing"),
    Label("dance", r"danc|salsa|charleston|waltz|ballet|pirouette|arabesque|jete|tango|foxtrot",
          "dancing of any style"),
    Label("acrobatics", r"cartwheel|flip(s|ping)?\b|handspring|somersault|handstand|acrobat|gymnast",
          "cartwheels, flips, handstands"),
    Label("climb", r"climb|ladder", "climbing"),
    Label("crawl", r"crawl", "crawling"),
    Label("roll", r"roll(s|ing)?\b", "rolling on the ground"),
    Label("swim", r"swim|(breast|back|fly) ?stroke|free ?style", "swimming movements"),
    Label("basketball", r"basketball|dribbl", "basketball: dribbling, shooting"),
    Label("soccer", r"soccer", "soccer"),
    Label("golf", r"golf|putt(s|ing)?\b|tee\b", "golf: swings, putts"),
    Label("throw", r"throw|toss|pitch(es|ing)?\b", "throwing"),
    Label("catch", r"catch", "catching"),
    Label("wave", r"wav(e|es|ing)\b", "waving"),
    Label("point", r"point(s|ing)?\b", "pointing"),
    Label("clap", r"clap", "clapping"),
    Label("salute", r"salut(e|es|ed|ing)\b", "saluting"),
    Label("cheer", r"cheer", "cheering"),
    Label("shrug", r"shrug", "shrugging"),
    Label("reach", r"reach", "reaching"),
    Label("push", r"push", "pushing"),
    Label("pull", r"pull", "pulling"),
    Label("carry", r"carr(y|ies|ied|ying)\b", "carrying"),
    Label("drink", r"drink|sip(s|ping)?\b", "drinking"),
    Label("squat", r"squat", "squatting"),
    Label("lunge", r"lunge", "lunges"),
    Label("crouch_down", r"crouch", "crouching"),
    Label("kneel_down", r"kneel|knelt", "kneeling"),
    Label("bend", r"bend|bent over", "bending over"),
    Label("lean", r"lean", "leaning forward, back or over (leaning on something is not sampled)"),
    Label("bow", r"bow(s|ing|ed)?\b", "bowing"),
    Label("stretch", r"stretch|yoga|sun salutation", "stretching, yoga"),
    Label("balance", r"balanc", "balancing"),
    Label("duck", r"duck(s|ing)?\b", "ducking"),
    Label("turn", r"turn|veer|spin(s|ning)?\b|pivot", "turning, veering, spinning"),
)
LABEL_NAMES = tuple(label.name for label in VOCABULARY)

# Vocabulary labels and the procedural families (synthact/human/motions/taxonomy.py) that show the same action.
PROCEDURAL_FAMILIES = {
    "walk": ("walk", "tiptoe_forward", "crouch_walk_forward"), "run": ("run", "jog_in_place"), "hop": ("hop",),
    "jump": ("jump",), "skip": ("skip_forward",), "gallop": ("gallop",), "march": ("march_in_place",),
    "jumping_jacks": ("jumping_jacks",), "kick": ("kick",), "punch": ("punch", "punch_combo", "boxing_shuffle"),
    "dance": ("dance", "disco_point"), "basketball": ("basketball_shot",), "golf": ("golf_swing",),
    "throw": ("throw",), "wave": ("wave",), "point": ("point",), "clap": ("clap",), "salute": ("salute",),
    "cheer": ("cheer",), "shrug": ("shrug",), "reach": ("reach",), "push": ("push",), "pull": ("pull",),
    "pick_up": ("pick_up",), "drink": ("drink",), "squat": ("squat", "squat_hold"), "lunge": ("lunge",),
    "sit_down": ("sit_down",), "stand_up": ("stand_up", "get_up_from_crouch"), "crouch_down": ("crouch_down",),
    "kneel_down": ("kneel_down",), "bow": ("bow",), "stretch": ("stretch", "arm_stretch"),
    "look_around": ("look_around",), "duck": ("duck",), "turn": ("turn",),
}

# Labels (vocabulary or procedural class) of actions that start or end sitting: in a place with a free seat of
# the right height they sit on it (scene/places.py), elsewhere a procedural one sits on the floor.
SITTING = frozenset({"sit_down", "stand_up", "sit_down_then_stand_up"})
LYING = "lie_down"  # a window that lies on something raised needs a bed SynthAct does not place: it is not sampled

# A description saying the body rests on something the recording had and a scene does not ("leans with hands on
# high stool", "leaning against the wall"): its windows are not sampled rather than shown leaning on air.
# Leaning on one's own body ("lean back on bent leg") needs nothing.
_LEANS_ON = re.compile(r"\blean(s|ing|ed)?( \w+){0,3}? (on|against)\b"
                       r"(?!( (one|his|her|their|the|a|bent|left|right|both))*"
                       r" (leg|foot|feet|toe|heel|knee|hip|arm)s?\b)")


def leans_on_something(description: str | None) -> bool:
    return bool(_LEANS_ON.search(normalise(description or "")))


@functools.cache
def _compiled() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((label.name, re.compile(r"\b(?:" + label.pattern + ")")) for label in VOCABULARY)


def normalise(text: str) -> str:
    """Lower case with words split: "JumpForward" and "Front_Kicking001" become "jump forward", "front kicking"."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"[^A-Za-z]+", " ", text)
    return " ".join(text.lower().split())


def labels_of(description: str | None) -> list[str]:
    """Vocabulary labels a description names, the first-mentioned first; [] when it names none."""
    text = normalise(description or "")
    found: dict[str, int] = {}
    for name, pattern in _compiled():
        for match in pattern.finditer(text):
            found.setdefault(name, match.start())
            text = text[:match.start()] + " " * (match.end() - match.start()) + text[match.end():]
    order = {name: i for i, name in enumerate(LABEL_NAMES)}
    return sorted(found, key=lambda name: (found[name], order[name]))


# --- where descriptions come from --------------------------------------------------------------

CMU_INDEX = "cmu-mocap-index-text.txt"
CMU_ATTRIBUTION = ("The data used in this project was obtained from mocap.cs.cmu.edu. The database was created "
                   "with funding from NSF EIA-0196217.")
CMU_LICENSE = "CMU Graphics Lab Motion Capture Database: no restrictions on use"
CMU_SOURCE = "http://mocap.cs.cmu.edu (BVH conversions: the cgspeed.com 'cmuconvert' releases)"
_CMU_TRIAL = re.compile(r"^(\d+)_(\d+)(_poses)?$")


def cmu_trial(stem: str) -> tuple[int, int] | None:
    """(subject, trial) of a CMU file name such as 01_01, 131_4 or AMASS's 01_01_poses, else None."""
    m = _CMU_TRIAL.match(stem)
    return (int(m.group(1)), int(m.group(2))) if m else None


@functools.cache
def cmu_descriptions() -> dict[tuple[int, int], str]:
    """(subject, trial) -> CMU's description (shipped with the package; see data/README.md)."""
    text = resources.files("synthact.human.motions").joinpath("data", CMU_INDEX).read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        trial, sep, description = line.partition("\t")
        key = cmu_trial(trial.strip())
        if sep and key is not None:
            description = description.strip()
            out[key] = "" if description.lower() == "unknown" else description
    return out


@dataclass(frozen=True)
class LabelRow:
    label: str | None  # None: take the labels from the description
    description: str


class LabelFileError(ValueError):
    pass


def read_label_file(path: Path) -> tuple[dict[str, LabelRow], list[str]]:
    """A CSV with columns file, label, description -> (file as written -> row, problems as one line each)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelFileError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    missing = {"file", "label", "description"} - set(reader.fieldnames or [])
    if missing:
        raise LabelFileError(f"{path}: needs the columns file, label, description "
                             f"(missing {', '.join(sorted(missing))})")
    rows: dict[str, LabelRow] = {}
    problems = []
    for line, row in enumerate(reader, start=2):
        name = (row["file"] or "").strip()
        label = normalise(row["label"] or "").replace(" ", "_") or None
        if not name:
            problems.append(f"{path}:{line}: no file named")
        elif row.get(None):
            problems.append(f"{path}:{line}: more columns than file, label, description (quote a description "
                            f"that holds commas); the row is left out")
        elif name in rows:
            problems.append(f"{path}:{line}: {name} is listed twice; the first row is used")
        else:
            rows[name] = LabelRow(label, (row["description"] or "").strip())
    return rows, problems
