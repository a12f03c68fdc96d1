"""`synthact motions …`: list classes, preview a motion as a GIF, import and check BVH files."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Browse, preview and import motions.")


@app.command("list")
def list_classes(library: str = typer.Option("procedural", "--library", "-l", help="Motion library name.")) -> None:
    """Classes of a library with their clip counts (procedural classes generate unlimited instances)."""
    from synthact.human.motions.library import MotionLibrary
    from synthact.human.motions.motion import MotionError

    try:
        lib = MotionLibrary.open(library)
    except MotionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    classes = lib.classes()
    width = max(len(c) for c in classes) if classes else 10
    for name, clips in sorted(classes.items()):
        count = "procedural" if lib.builtin else f"{len(clips)} clips"
        typer.echo(f"{name:<{width}}  {count}")
    typer.echo(f"{len(classes)} classes in library {library!r}")


@app.command("show")
def show(name: str = typer.Argument(..., help="A class name (procedural) or a clip id / BVH or npz path."),
         out: Path = typer.Option(..., "--out", "-o", help="GIF (animated) or PNG (filmstrip) to write."),
         library: str = typer.Option("procedural", "--library", "-l"),
         seed: int = typer.Option(0, "--seed", help="Instance seed of a procedural class."),
         fps: float = typer.Option(30.0, "--fps"),
         mirror: bool = typer.Option(False, "--mirror", help="Show the mirrored motion.")) -> None:
    """Write a stick-figure preview of a motion (no Blender needed)."""
    from synthact.human.motions.importers import load_amass, load_bvh
    from synthact.human.motions.library import MotionLibrary
    from synthact.human.motions.motion import MotionError
    from synthact.human.motions.preview import write_filmstrip, write_gif

    try:
        path = Path(name)
        if path.suffix.lower() == ".bvh" and path.exists():
            motion = load_bvh(path).resampled(fps)
        elif path.suffix.lower() == ".npz" and path.exists():
            motion = load_amass(path).resampled(fps)
        else:
            lib = MotionLibrary.open(library)
            if lib.builtin:
                from synthact.human.motions import procedural
                motion = procedural.generate(name, seed, fps=fps)
            else:
                motion = lib.load_clip(name).resampled(fps)
        if mirror:
            motion = motion.mirrored()
    except MotionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
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
