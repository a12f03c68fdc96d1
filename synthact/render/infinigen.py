"""Infinigen Indoors as a place generator: procedural rooms (furniture, materials, lamps; no external assets),
made in Infinigen's own environment and imported into a place library.

Infinigen 1.15.5 pins bpy 4.2.0 (the project renders with bpy 5.0.1), so it runs as a separate Python in its
own virtual environment, made once per machine (`environment()`); the two exchange files: Infinigen writes a
`scene.blend`, `render/blender/places.py` imports it (bpy 5.0.1 opens 4.2 files). Each room is one process of
`infinigen_examples.generate_indoors`, started in the installed site-packages folder (its gin includes are
relative to it), with the settings measured to finish one furnished room in ~7 minutes on 2 cores
(docs: DESIGN.md, BENCHMARKS.md "Places").
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

VERSION = "1.15.5"
# Infinigen's requirements (its wheel's metadata) with scikit-image at 0.20.0: <0.20 has no Python 3.11 wheel
REQUIREMENTS = ("bpy==4.2.0", "coacd", "gin_config>=0.5.0", "imageio<2.32.0", "matplotlib", "networkx", "numpy<2",
                "opencv-python<4.9.0", "pandas", "psutil", "scikit-image==0.20.0", "scikit-learn<1.4.0", "scipy",
                "shapely<=2.0.5", "tqdm", "trimesh<3.23.0", "OpenEXR", "submitit", "geomdl", "python-fcl", "rtree")
# Infinigen's room types (its restrict_parent_rooms names) by the names place libraries use
ROOM_TYPES = {"dining_room": "DiningRoom", "living_room": "LivingRoom", "bedroom": "Bedroom", "kitchen": "Kitchen",
              "bathroom": "Bathroom"}
SETTINGS = ("compose_indoors.terrain_enabled=False", "compose_indoors.solve_small_enabled=False",
            "compose_indoors.solve_steps_large=40")  # the defaults ran over 30 min per room here


class GeneratorError(RuntimeError):
    """The generator's environment cannot be made or found."""


def default_environment() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "synthact" / f"infinigen-{VERSION}"


def environment(folder: Path | None = None, python: str = "python3.11", log=print) -> Path:
    """The Python of Infinigen's virtual environment, made (once) in folder."""
    folder = Path(folder or default_environment())
    exe = folder / "bin" / "python"
    stamp = folder / ".installed"
    if stamp.is_file():
        return exe
    log(f"making Infinigen {VERSION}'s environment in {folder} (once per machine; ~1.5 GB, a few minutes)")
    steps = [[python, "-m", "venv", str(folder)],
             [str(exe), "-m", "pip", "install", "--quiet", "--no-deps", f"infinigen=={VERSION}"],
             [str(exe), "-m", "pip", "install", "--quiet", "--only-binary=:all:", *REQUIREMENTS]]
    for step in steps:
        run = subprocess.run(step, capture_output=True, text=True)
        if run.returncode != 0:
            tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
            raise GeneratorError(f"{' '.join(step[:4])} … failed ({run.returncode}): {tail[0]}")
    stamp.write_text(VERSION + "\n")
    return exe


@dataclass(frozen=True)
class RoomJob:
    seed: int
    room_type: str  # a key of ROOM_TYPES

    @property
    def name(self) -> str:
        return f"{self.room_type}-seed{self.seed}"


def site_packages(python: Path) -> Path:
    """Where the generator's infinigen_examples package is installed (the folder generate_indoors starts in)."""
    run = subprocess.run([str(python), "-c", "import os, infinigen_examples; "
                          "print(os.path.dirname(os.path.dirname(infinigen_examples.__file__)))"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise GeneratorError(f"{python}: infinigen_examples cannot be imported "
                             f"({(run.stderr.strip().splitlines() or ['?'])[-1]})")
    return Path(run.stdout.strip())


def generator_version(python: Path) -> str:
    run = subprocess.run([str(python), "-c", "import infinigen; print(infinigen.__version__)"], capture_output=True,
                         text=True)
    return run.stdout.strip() if run.returncode == 0 else "unknown"


def command(python: Path, job: RoomJob, out: Path) -> list[str]:
    return [str(python), "-m", "infinigen_examples.generate_indoors", "--seed", str(job.seed), "--task", "coarse",
            "--output_folder", str(out), "-g", "fast_solve.gin", "singleroom.gin", "-p", *SETTINGS,
            f'restrict_solving.restrict_parent_rooms=["{ROOM_TYPES[job.room_type]}"]']


def generate(python: Path, job: RoomJob, out: Path, timeout_s: float) -> tuple[Path | None, str]:
    """Run Infinigen for one room into out/. Returns (the scene file, "") or (None, why it failed)."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / "generate.log"
    try:
        with open(log, "w") as f:
            run = subprocess.run(command(python, job, out), cwd=site_packages(python), stdout=f,
                                 stderr=subprocess.STDOUT, timeout=timeout_s,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired:
        return None, f"timeout: no room after {timeout_s:.0f} s (log: {log})"
    except GeneratorError as exc:
        return None, str(exc)
    scene = out / "scene.blend"
    if run.returncode != 0 or not scene.is_file():
        reason = "out_of_memory" if run.returncode in (-9, 137) else f"crash (exit {run.returncode})"
        lines = log.read_text(errors="replace").strip().splitlines()
        return None, f"{reason}: {lines[-1][:200] if lines else 'no output'} (log: {log})"
    return scene, ""
