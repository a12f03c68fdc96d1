"""`synthact motions …`: list classes and windows, preview a motion, import BVH files or whole libraries,
fetch a library's files, remove an imported library."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Optional

import typer

from synthact.progress import Bars

from .common import output_file

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Browse, preview and import motions.")

DEFAULT_WINDOW_S = 32 / 30  # a batch config's default window: render.frames / render.fps


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _open(library: str):
    from synthact.config import InvalidFile
    from synthact.human.motions.library import MotionLibrary
    from synthact.human.motions.motion import MotionError

    try:
        return MotionLibrary.open(library)
    except (MotionError, InvalidFile) as exc:
        _fail(str(exc))


@app.command("list")
def list_classes(library: str = typer.Option("procedural", "--library", "-l", help="Motion library name."),
                 window_length: float = typer.Option(DEFAULT_WINDOW_S, "--window-length", min=0.01,
                                                     help="Imported libraries: window length in seconds."),
                 stride: Optional[float] = typer.Option(None, "--stride", min=0.01,
                                                        help="Seconds between windows (default: the length)."),
                 min_energy: float = typer.Option(0.05, "--min-energy", min=0.0,
                                                  help="Windows must move at least this much (m/s).")) -> None:
    """Classes of a library with their clip counts; for an imported library its labels with clips, seconds of
    motion and windows."""
    lib = _open_declared(library)
    classes = lib.classes()
    width = max([len(c) for c in classes] + [10])
    if lib.manifest is None:
        for name, clips in sorted(classes.items()):
            count = "procedural" if lib.builtin else f"{len(clips)} clips"
            typer.echo(f"{name:<{width}}  {count}")
        typer.echo(f"{len(classes)} classes in library {library!r}")
        return
    table = lib.window_table(window_length, stride or window_length, min_energy)
    seconds: dict[str, float] = {}
    for clip in lib.manifest.clips:
        seconds[clip.label] = seconds.get(clip.label, 0.0) + clip.duration_s
    typer.echo(f"{'label':<{width}}  {'clips':>5}  {'seconds':>8}  {'windows':>7}")
    for name, clips in sorted(classes.items(), key=lambda item: (-len(item[1]), item[0])):
        typer.echo(f"{name:<{width}}  {len(clips):>5}  {seconds[name]:>8.1f}  {len(table.by_label.get(name, [])):>7}")
    excluded = ", ".join(f"{n} {why}" for why, n in sorted(table.excluded.items())) or "none"
    typer.echo(f"{len(lib.manifest.clips)} clips, {sum(seconds.values()):.1f} s of motion, {len(classes)} labels in "
               f"library {library!r} (version {lib.manifest.version}, labels from {lib.manifest.labels_from or '-'}); "
               f"windows of {window_length:g} s every {stride or window_length:g} s moving >= {min_energy:g} m/s: "
               f"{len(table.windows)} (left out: {excluded})")


_WINDOW_ID = re.compile(r"^(?P<clip>.+)@(?P<start>\d+(\.\d+)?)$")


@app.command("show")
def show(name: str = typer.Argument(..., help="A class (procedural), a clip or window id (CLIP@SECONDS) of a "
                                              "library, or a BVH / npz path."),
         out: Path = typer.Option(..., "--out", "-o", help="GIF (animated) or PNG (filmstrip) to write."),
         library: str = typer.Option("procedural", "--library", "-l"),
         seed: int = typer.Option(0, "--seed", help="Instance seed of a procedural class."),
         fps: float = typer.Option(30.0, "--fps"),
         start: Optional[float] = typer.Option(None, "--start", min=0.0, help="Seconds into the clip."),
         seconds: Optional[float] = typer.Option(None, "--seconds", min=0.01,
                                                 help="How much to show (a window id's default: one window)."),
         mirror: bool = typer.Option(False, "--mirror", help="Show the mirrored motion.")) -> None:
    """Write a stick-figure preview of a motion or of one window of it (no Blender needed)."""
    from synthact.human.motions.importers import load_amass, load_bvh
    from synthact.human.motions.motion import MotionError
    from synthact.human.motions.preview import write_filmstrip, write_gif

    output_file(out, (".gif", ".png"), "preview")
    window = _WINDOW_ID.match(name)
    if window:
        name, start = window.group("clip"), float(window.group("start"))
        seconds = seconds or DEFAULT_WINDOW_S
    try:
        path = Path(name)
        if path.suffix.lower() == ".bvh" and path.exists():
            motion = load_bvh(path)
        elif path.suffix.lower() == ".npz" and path.exists():
            motion = load_amass(path)
        else:
            lib = _open(library)
            if lib.builtin:
                from synthact.human.motions import procedural
                motion = procedural.generate(name, seed, fps=fps)
            else:
                motion = lib.load_clip(name)
        begin = start or 0.0
        if begin >= motion.duration:
            _fail(f"{name}: --start {begin:g} s is past its end ({motion.duration:.2f} s)")
        frames = None if seconds is None else max(int(round(seconds * fps)), 1)
        motion = motion.resampled(fps, start=begin, num_frames=frames)
        if mirror:
            motion = motion.mirrored()
    except MotionError as exc:
        _fail(str(exc))
    written = write_filmstrip(motion, out) if out.suffix.lower() == ".png" else write_gif(motion, out)
    typer.echo(f"{motion.class_name}: {motion.num_frames} frames at {motion.fps:g} fps -> {written}")


@app.command("import-bvh")
def import_bvh(paths: list[Path] = typer.Argument(..., help="BVH files."),
               class_name: Optional[str] = typer.Option(None, "--class", help="Label for the clips."),
               fps: float = typer.Option(30.0, "--fps", help="The clip rate to resample to.")) -> None:
    """Validate BVH files and report frames, fps, duration and retarget quality; exit 2 if any fails."""
    from synthact.human.motions.importers import load_bvh
    from synthact.human.motions.motion import MotionError
    from synthact.human.motions.quality import measure, motion_quality
    from synthact.human.motions.retarget import retarget
    from synthact.human.motions.skeleton import Skeleton

    failed = 0
    target = Skeleton.reference()
    for path in paths:
        try:
            motion = load_bvh(path, class_name=class_name)
        except MotionError as exc:
            typer.echo(f"FAIL {exc}", err=True)
            failed += 1
            continue
        clip = motion.resampled(fps)
        before = motion_quality(clip)
        local, root = retarget(clip, target)
        after = measure(local, root, clip.contacts, target, clip.fps)
        typer.echo(
            f"ok   {path}: {motion.num_frames} frames at {motion.fps:g} fps = {motion.duration:.2f} s "
            f"-> {clip.num_frames} frames at {fps:g} fps; planted {clip.contacts.mean():.0%} of foot-frames; "
            f"after retarget: foot skate {after.foot_skate_m * 100:.1f} cm (source {before.foot_skate_m * 100:.1f}), "
            f"float {after.foot_float_m * 100:.1f} cm, ground penetration {after.ground_penetration_m * 100:.1f} cm, "
            f"joint-limit excess {after.joint_limit_excess_deg:.1f} deg")
    if failed:
        typer.echo(f"{failed} of {len(paths)} files failed", err=True)
        raise typer.Exit(2)


@app.command("import-library")
def import_library(name: str = typer.Argument(..., help="The library's name (what a batch config's motion.library "
                                                        "names)."),
                   folder: Path = typer.Argument(..., help="A folder of .bvh and AMASS .npz files (searched "
                                                           "recursively)."),
                   labels: str = typer.Option("auto", "--labels", help="auto (FOLDER/labels.csv if present, else "
                                              "CMU's descriptions for CMU trial names), cmu, none, or a CSV file "
                                              "with columns file, label, description."),
                   license: Optional[str] = typer.Option(None, "--license", help="Default: CMU's terms when the "
                                                         "files are CMU trials, else 'unspecified'."),
                   source: Optional[str] = typer.Option(None, "--source", help="Where the files come from."),
                   version: Optional[str] = typer.Option(None, "--version", help="Default: a digest of the files "
                                                         "and labels."),
                   download_url: Optional[str] = typer.Option(None, "--download-url", help="Where the files are "
                                                              "published (URL/FILE), for `synthact motions fetch`."),
                   workers: int = typer.Option(1, "--workers", min=1, help="Processes reading files.")) -> None:
    """Build (or update) a motion library from a folder: every file is validated, retargeted, measured and
    labelled; bad files are reported and left out. Registered in the motion library root (see README)."""
    from synthact.human.motions.import_library import (
        ImportOptions,
        LibraryImportError,
        find_motion_files,
        library_path,
    )
    from synthact.human.motions.import_library import import_library as run

    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", name):
        _fail(f"library name {name!r}: use lower-case letters, digits, _ and - (it is a pack name)")
    declared = _open_declared(name, missing_ok=True)
    if declared is not None and declared.pack.manifest.resolve() != library_path(name).resolve():
        _fail(f"motion library {name!r} is already declared in {declared.pack.manifest}; choose another name")
    options = ImportOptions(labels=labels, license=license, source=source, version=version,
                            download_url=download_url, workers=workers)
    total = len(find_motion_files(folder)) if folder.is_dir() else 0
    bars = Bars(unit="files")
    counts = {"seconds": 0.0, "done": 0, "started": time.perf_counter()}

    def on_file(file: str, outcome: str, motion_s: float) -> None:
        if not counts["done"]:  # shown once files are being read, not before a bad folder is reported
            bars.__enter__()
        counts["seconds"] += motion_s
        counts["done"] += 1
        elapsed = max(time.perf_counter() - counts["started"], 1e-9)
        bars(f"import {name}", counts["done"], total, detail=f"{counts['seconds'] / 60 / elapsed:.2f} min of motion/s")

    try:
        report = run(name, folder, options, on_file=on_file)
    except LibraryImportError as exc:
        _fail(str(exc))
    finally:
        if counts["done"]:
            bars.__exit__(None, None, None)
    for problem in report.label_problems:
        typer.echo(f"labels: {problem}", err=True)
    for _, reason in report.skipped:
        typer.echo(f"skipped {reason}", err=True)
    lib = report.library
    if not lib.clips:
        _fail(f"{folder}: no file could be imported; library {name!r} was not written")
    labelled = sum(c.label != "unlabelled" for c in lib.clips)
    typer.echo(f"library {name!r}: {len(lib.clips)} clips ({sum(c.duration_s for c in lib.clips) / 60:.1f} min of "
               f"motion, {labelled} labelled) -> {report.manifest}; read {len(report.analysed)}, unchanged "
               f"{len(report.reused)}, skipped {len(report.skipped)}, gone {len(report.removed)} in "
               f"{report.seconds:.1f} s")
    typer.echo(f"use it with `motion: {{library: {name}}}` in a batch config; `synthact motions list --library "
               f"{name}` shows its labels; `synthact motions remove {name}` unregisters it")


@app.command("fetch")
def fetch(name: str = typer.Argument(..., help="A motion library whose manifest has a download URL."),
          to: Path = typer.Option(..., "--to", help="Folder to download the files into."),
          send_token_to: Optional[str] = typer.Option(
              None, "--send-token-to", metavar="HOST",
              help="Send the bearer token (SYNTHACT_TOKEN, or --token-file) to this host, which must be the host "
                   "of the library's download URL; without it no token is sent."),
          token_file: Optional[Path] = typer.Option(None, "--token-file", envvar="SYNTHACT_TOKEN_FILE",
                                                    help="File holding the bearer token.")) -> None:
    """Download a library's files (resumed, sha256-verified) and point the library at them."""
    import urllib.error
    from urllib.parse import urlsplit

    from synthact.dataset.download import fetch_files
    from synthact.human.motions.collection import write_manifest
    from synthact.human.motions.import_library import library_path

    from .common import read_token
    lib = _fetch_target(name)
    url = lib.manifest.download_url
    token = None
    if send_token_to is not None:  # a manifest names its host: a token goes there only when the user says so
        host = urlsplit(url).netloc.rpartition("@")[2].lower()
        if send_token_to.lower() not in (host, host.split(":")[0]):
            _fail(f"--send-token-to {send_token_to}: library {name!r} downloads from {host or url}, not from "
                  f"{send_token_to}; no token was sent")
        token = read_token(token_file)
        if token is None:
            _fail("--send-token-to needs a token: set SYNTHACT_TOKEN or give --token-file")
    files = [(c.file, c.sha256, c.bytes) for c in lib.manifest.clips]
    fetched = []
    try:
        with Bars(unit="files") as bars:
            bars(f"fetch {name}", 0, len(files))
            result = fetch_files(url, files, to, token, on_file=lambda rel: fetched.append(rel) or bars(
                f"fetch {name}", len(fetched), len(files)))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        code = getattr(getattr(exc, "__cause__", None), "code", None) or getattr(exc, "code", None)
        hint = (f"; the server wants a token: add --send-token-to {urlsplit(url).hostname}"
                if code == 401 and token is None else "")
        _fail(f"fetch {name}: {exc}{hint}")
    typer.echo(f"{len(result.fetched)} files downloaded ({result.bytes / 1e6:.1f} MB), {len(result.skipped)} already "
               f"present, into {to}")
    manifest_file = lib.pack.manifest.parent / lib.pack.pack.options["manifest"]
    if manifest_file.resolve() == library_path(name).resolve():
        lib.manifest.path = str(to.resolve())
        write_manifest(lib.manifest, manifest_file)
        typer.echo(f"library {name!r} now reads its files from {to.resolve()}")
    else:
        typer.echo(f"library {name!r} is declared in {lib.pack.manifest}: set its path to {to.resolve()} there")


def _fetch_target(name: str):
    lib = _open_declared(name)
    if lib.manifest is None or not lib.manifest.download_url:
        _fail(f"motion library {name!r} has no download URL in its manifest (import it with --download-url, or "
              f"download its files yourself)")
    return lib


def _open_declared(name: str, missing_ok: bool = False):
    """A declared library, whether or not its files are present yet (None when missing_ok and undeclared)."""
    from synthact.config import AssetRegistry, InvalidFile
    from synthact.human.motions.library import MotionLibrary
    from synthact.human.motions.motion import MotionError

    try:
        registry = AssetRegistry.load()
        pack = registry.get("motion_library", name)
        if pack is None and missing_ok:
            return None
        if pack is None:
            _fail(registry.missing_message("motion_library", name))
        lib = MotionLibrary(pack)
        lib.manifest  # noqa: B018 - read now, so a broken manifest is reported here
        return lib
    except (MotionError, InvalidFile) as exc:
        _fail(str(exc))


@app.command("remove")
def remove(name: str = typer.Argument(..., help="A library imported with import-library.")) -> None:
    """Unregister an imported library (its folder in the library root); the motion files are not touched."""
    from synthact.human.motions.import_library import library_path

    manifest = library_path(name)
    if not manifest.is_file():
        lib = _open_declared(name)
        _fail(f"motion library {name!r} is declared in {lib.pack.manifest}, not imported; remove it there")
    shutil.rmtree(manifest.parent)
    typer.echo(f"removed library {name!r} ({manifest.parent}); the motion files were not touched")
