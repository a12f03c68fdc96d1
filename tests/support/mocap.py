"""Recorded-motion files for tests that must not need ../shared: procedural motions written as AMASS .npz
(SMPL-H axis-angle poses, Z-up world), and a small library imported from them with the real importer."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from synthact.human.motions import procedural
from synthact.human.motions.importers import _SMPL_PELVIS, SMPL_TO_CANONICAL
from synthact.human.motions.rotations import matrix_to_axis_angle
from synthact.human.motions.skeleton import PARENTS, forward_kinematics

# file stem -> (procedural class, seconds, the description a label file gives it)
MINI = {
    "walk_a": ("walk_forward_slow", 4.0, "walk forward, slowly"),
    "walk_b": ("walk_circle_left_fast", 3.0, "walk in a circle"),
    "jump_a": ("jump_vertical", 3.5, "jump up"),
    "wave_a": ("wave_right_high", 3.0, "wave"),
    "hold_a": ("squat_hold", 3.0, "hold a squat"),  # the vocabulary has no 'hold': a label column names it
}


def to_amass(motion, path: Path) -> Path:
    """Write a canonical motion as an AMASS-style npz."""
    glob, _ = forward_kinematics(motion.skeleton, motion.local_matrices(), motion.root_translation)
    glob_smpl = glob @ SMPL_TO_CANONICAL
    local = np.empty_like(glob_smpl)
    for j, p in enumerate(PARENTS):
        local[:, j] = glob_smpl[:, j] if p < 0 else np.swapaxes(glob_smpl[:, p], -1, -2) @ glob_smpl[:, j]
    poses = np.zeros((motion.num_frames, 156))
    poses[:, :66] = matrix_to_axis_angle(local).reshape(motion.num_frames, -1)
    np.savez(path, poses=poses, trans=motion.root_translation - _SMPL_PELVIS, mocap_framerate=motion.fps,
             betas=np.zeros(16), gender="neutral")
    return path


def labelled_folder(folder: Path, files: dict) -> Path:
    """AMASS files (stem -> (motion, label, description)) and their labels.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "labels.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file", "label", "description"])
        for stem, (motion, label, description) in files.items():
            to_amass(motion, folder / f"{stem}.npz")
            out.writerow([f"{stem}.npz", label, description])
    return folder


def mini_mocap_folder(folder: Path) -> Path:
    """Five AMASS files made from procedural motions, with a labels.csv (file, label, description)."""
    return labelled_folder(folder, {
        stem: (procedural.generate(name, 1, fps=60, duration=seconds), "squat" if stem == "hold_a" else "",
               description) for stem, (name, seconds, description) in MINI.items()})


# CMU-style names (subject_trial) for tests of splits by subject and by trial: walks of subjects 1-4, jumps of
# subjects 1-5, and three waves all by subject 6
SUBJECT_TRIALS = {"01_01": "walk", "01_02": "walk", "02_01": "walk", "03_01": "walk", "04_01": "walk",
                  "01_03": "jump", "02_02": "jump", "03_02": "jump", "04_02": "jump", "05_01": "jump",
                  "06_01": "wave", "06_02": "wave", "06_03": "wave"}
_SUBJECT_SOURCE = {"walk": "walk_forward_slow", "jump": "jump_vertical", "wave": "wave_right_high"}


def subjects_mocap_folder(folder: Path) -> Path:
    """AMASS files named as CMU names its trials (SUBJECT_TRIALS), with a labels.csv."""
    return labelled_folder(folder, {
        stem: (procedural.generate(_SUBJECT_SOURCE[label], k + 1, fps=30, duration=4.0), label, f"{label} {stem}")
        for k, (stem, label) in enumerate(SUBJECT_TRIALS.items())})


# Recorded sits (label sit_down): sat down onto seats of known heights and stood up again, and a sit on the floor
SITS = {"sit_stool": 0.62, "sit_chair": 0.45, "sit_floor": None}


def sits_mocap_folder(folder: Path) -> Path:
    """AMASS files of SITS, each a procedural sit_down_then_stand_up on its seat, with a labels.csv."""
    return labelled_folder(folder, {
        stem: (procedural.generate("sit_down_then_stand_up", k + 1, fps=30, duration=5.0, seat_height_m=seat_m),
               "sit_down", f"sit down and stand up ({stem})") for k, (stem, seat_m) in enumerate(SITS.items())})
