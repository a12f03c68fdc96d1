"""Infinigen as a place generator: procedural rooms (Infinigen Indoors: furniture, materials, lamps; no external
assets) and props (its boulder factory), made in Infinigen's own environment and imported into a place library.

Infinigen 1.15.5 pins bpy 4.2.0 (the project renders with bpy 5.0.1), so it runs as a separate Python in its
own virtual environment, made once per machine (`environment()`); the two exchange files: Infinigen writes a
`scene.blend`, `render/blender/places.py` imports it (bpy 5.0.1 opens 4.2 files). Each room is one process of
`infinigen_examples.generate_indoors`, started in the installed site-packages folder (its gin includes are
relative to it), with the settings measured to finish one furnished room in ~7 minutes on 2 cores
(docs: DESIGN.md, BENCHMARKS.md "Places").
"""
from __future__ import annotations

import fcntl
import io
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
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
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # rooms built at once on one machine: one makes it, the others wait
        if stamp.is_file():
            return exe
        log(f"making Infinigen {VERSION}'s environment in {folder} (once per machine; ~1.5 GB, a few minutes)")
        steps = [[python, "-m", "venv", "--clear", str(folder)],
                 [str(exe), "-m", "pip", "install", "--quiet", "--no-deps", f"infinigen=={VERSION}"],
                 [str(exe), "-m", "pip", "install", "--quiet", "--only-binary=:all:", *REQUIREMENTS]]
        for step in steps:
            run = subprocess.run(step, capture_output=True, text=True)
            if run.returncode != 0:
                tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
                raise GeneratorError(f"{' '.join(step[:4])} … failed ({run.returncode}): {tail[0]}")
        stamp.write_text(VERSION + "\n")
    return exe


# Props: Infinigen's asset factories by the semantic class a prop library files them under; a class with several
# takes them in turn by seed. Bushes are its ground plants whose real geometry fits a prop's budget (a fern 352k
# triangles, a tussock 229k, an agave 1.7M; 8-33 s each): its BushFactory shrub is 12.6M triangles of leaves that
# Decimate shreds into specks. Trees are its TreeFactory thinned (blender/infinigen_asset.py: THINNED_TREE): made
# whole one is ~1e9 triangles (Blender's mesh arrays overflow); PalmTreeFactory grew past 23 GB and
# CoconutTreeFactory crashed (BENCHMARKS.md, places).
PROP_FACTORIES = {"rock": (("infinigen.assets.objects.rocks.boulder", "BoulderFactory"),),
                  "tree": (("infinigen.assets.objects.trees.generate", "TreeFactory"),),
                  "bush": (("infinigen.assets.objects.small_plants.fern", "FernFactory"),
                           ("infinigen.assets.objects.monocot.tussock", "TussockMonocotFactory"),
                           ("infinigen.assets.objects.monocot.agave", "AgaveMonocotFactory"))}
# Props whose procedural materials are baked to textures at import. Not plants: their blades and leaflets are
# thinner than a texel, so a bake bleeds the margin into them (a tussock came out near black), and they fill
# little of a frame, so their node materials cost little to render.
BAKED_PROPS = {"rock"}
PROP_SCRIPT = Path(__file__).parent / "blender" / "infinigen_asset.py"  # run by Infinigen's Python, not imported


@dataclass(frozen=True)
class BuildJob:
    """One room (Infinigen Indoors) or prop (one of Infinigen's asset factories) to make."""

    seed: int
    kind: str  # a room type (a key of ROOM_TYPES) or a prop kind (a key of PROP_FACTORIES)

    @property
    def room(self) -> bool:
        return self.kind in ROOM_TYPES

    @property
    def generator(self) -> str:
        return "infinigen-indoors" if self.room else "infinigen-assets"

    @property
    def name(self) -> str:
        return f"{self.kind}-seed{self.seed}"


def factory_of(job: BuildJob) -> tuple[str, str]:
    """The (module, class) of Infinigen's asset factory that makes a prop job: its class's factories in turn."""
    options = PROP_FACTORIES[job.kind]
    return options[job.seed % len(options)]


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


def command(python: Path, job: BuildJob, out: Path) -> list[str]:
    if not job.room:
        module, factory = factory_of(job)
        return [str(python), str(PROP_SCRIPT), module, factory, str(job.seed), str(out / "scene.blend")]
    return [str(python), "-m", "infinigen_examples.generate_indoors", "--seed", str(job.seed), "--task", "coarse",
            "--output_folder", str(out), "-g", "fast_solve.gin", "singleroom.gin", "-p", *SETTINGS,
            f'restrict_solving.restrict_parent_rooms=["{ROOM_TYPES[job.kind]}"]']


LICENSE = "BSD-3-Clause"
ATTRIBUTION = {"infinigen-indoors": "Made with Infinigen (Raistrick et al., Infinigen Indoors, CVPR 2024), "
                                    "BSD-3-Clause",
               "infinigen-assets": "Made with Infinigen (Raistrick et al., Infinite Photorealistic Worlds using "
                                   "Procedural Generation, CVPR 2023), BSD-3-Clause"}


@dataclass
class Built:
    """What one room's or prop's build sends back to the machine that writes the library."""

    job: BuildJob
    places: list = field(default_factory=list)  # world.places.PlaceRecord, their files in `archive`
    props: list = field(default_factory=list)  # world.places.PropRecord, likewise
    archive: bytes = b""  # a tar of their folders (scene.blend or prop.blend, textures packed, floor.npz)
    why: str = ""  # why it failed ("" when it did not)
    log: str = ""  # the generator's output, its last 200 lines


def make(job: BuildJob, python: str | None, timeout_s: float, max_triangles: int,
         bake_textures: bool) -> Built:
    """Generate one room (imported as places) or prop, on whichever machine runs this (a task of the executor;
    the generator's environment is made there once): its files come back as a tar, the generator's 10-140 MB
    scene stays behind."""
    try:
        exe = Path(python) if python else environment(log=lambda *_: None)
    except GeneratorError as exc:
        return Built(job, why=f"environment: {exc}")
    with tempfile.TemporaryDirectory(prefix="synthact-build-") as tmp:
        scene, why = generate(exe, job, Path(tmp) / "generated", timeout_s)
        log_file = Path(tmp) / "generated" / "generate.log"
        log = "\n".join(log_file.read_text(errors="replace").splitlines()[-200:]) if log_file.is_file() else ""
        if scene is None:
            return Built(job, why=why, log=log)
        name = job.generator
        generator = {"name": name,
                     "version": generator_version(exe), "seed": job.seed, "job": job.name,
                     "command": " ".join(command(Path("python"), job, Path("OUT"))[1:]).replace(
                         str(PROP_SCRIPT), str(PROP_SCRIPT.relative_to(PROP_SCRIPT.parents[3])))}  # in the package
        from .blender.places import PlaceImportError, import_prop, import_scene

        library = Path(tmp) / "library"
        try:
            if job.room:
                places, props = import_scene(scene, library, job.name, {**generator, "room_type": job.kind},
                                             LICENSE, ATTRIBUTION[name], max_triangles, bake_textures=bake_textures), []
            else:
                generator = {**generator, "factory": factory_of(job)[1]}
                places, props = [], [import_prop(scene, library, job.name, job.kind, generator, LICENSE,
                                                 ATTRIBUTION[name], max_triangles,
                                                 bake_textures=bake_textures and job.kind in BAKED_PROPS)]
        except (PlaceImportError, RuntimeError) as exc:
            return Built(job, why=f"import: {exc}", log=log)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:  # not compressed: .blend, JPEG and npz already are
            for folder in [p.place_id for p in places] + [p.prop_id for p in props]:
                tar.add(library / folder, arcname=folder)
        return Built(job, places, props, buffer.getvalue(), log=log)


def generate(python: Path, job: BuildJob, out: Path, timeout_s: float) -> tuple[Path | None, str]:
    """Run Infinigen for one room or prop into out/. Returns (the scene file, "") or (None, why it failed)."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / "generate.log"
    try:
        with open(log, "w") as f:
            run = subprocess.run(command(python, job, out), cwd=site_packages(python), stdout=f,
                                 stderr=subprocess.STDOUT, timeout=timeout_s,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired:
        return None, f"timeout: no room after {timeout_s:.0f} s"
    except GeneratorError as exc:
        return None, str(exc)
    scene = out / "scene.blend"
    if run.returncode != 0 or not scene.is_file():
        reason = "out_of_memory" if run.returncode in (-9, 137) else f"crash (exit {run.returncode})"
        lines = log.read_text(errors="replace").strip().splitlines()
        return None, f"{reason}: {lines[-1][:200] if lines else 'no output'}"
    return scene, ""
