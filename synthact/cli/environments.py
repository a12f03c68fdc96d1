"""`synthact environments …`: place libraries (rooms) that batch configs set scenes in."""
from __future__ import annotations

import io
import re
import shutil
import tarfile
import time
from pathlib import Path
from typing import Optional

import typer

from synthact.clip import sha256_file

from .common import fail, output_file

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                  help="Import, list, show and remove place libraries (rooms actors act in).")
SCENE_SUFFIXES = (".blend", ".glb", ".gltf")
NAME = r"[a-z0-9][a-z0-9_\-]*"
ROOM_CPUS = 2  # Infinigen uses both cores of a 2-core machine; more gain little (its solver is one process)
ROOM_MEMORY_BYTES = 2 * 1024**3  # reserved per room (a floor: the starter room peaked at 1.7 GB making, 5 importing)


def _library(name: str):
    from synthact.world.places import PlaceLibraryError, open_place_library
    try:
        return open_place_library(name)
    except PlaceLibraryError as exc:
        fail(str(exc))


def _sources(path: Path) -> list[Path]:
    if not path.exists():
        fail(f"{path}: not found (expected a scene file or a folder of them: {', '.join(SCENE_SUFFIXES)})")
    if path.is_file():
        if path.suffix.lower() not in SCENE_SUFFIXES:
            fail(f"{path}: not a scene file ({', '.join(SCENE_SUFFIXES)})")
        return [path]
    found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SCENE_SUFFIXES and p.is_file())
    if not found:
        fail(f"{path}: no scene file ({', '.join(SCENE_SUFFIXES)}) in this folder")
    return found


def _place_id(source: Path) -> str:
    """The file's name, or its folder's for a generic name (Infinigen writes every room as scene.blend)."""
    stem = source.parent.name if source.stem.lower() in ("scene", "untitled") else source.stem
    return re.sub(r"[^a-z0-9_\-]+", "-", stem.lower()).strip("-") or "place"


@app.command("import")
def import_places(name: str = typer.Argument(..., help="The library's name (what environment.places.library "
                                                       "names in a batch config)."),
                  source: Path = typer.Argument(..., help="A .blend/.glb/.gltf scene, or a folder of them."),
                  license: str = typer.Option("unspecified", "--license", help="The scenes' licence."),
                  attribution: str = typer.Option("", "--attribution", help="Who made the scenes."),
                  max_triangles: int = typer.Option(60_000, "--max-triangles", min=1000, help="Meshes above this "
                                                    "many triangles are simplified once (render and annotations "
                                                    "see the same ones)."),
                  procedural: bool = typer.Option(False, "--procedural-materials", help="Keep the scenes' node "
                                                  "materials instead of baking them to textures (slower to "
                                                  "render).")) -> None:
    """Add scenes to a place library: each furnished room becomes a place (baked, simplified once, its free floor,
    seats, objects and lights recorded). A scene already imported unchanged is skipped; one that fails is
    recorded with its reason and the rest go on."""
    from synthact.world.places import PlaceLibrary, PlaceLibraryError, environment_root, open_place_library

    if not re.fullmatch(NAME, name):
        fail(f"library name {name!r}: use lower-case letters, digits, _ and -")
    sources = _sources(source)
    from synthact.render.blender.places import PlaceImportError, import_scene

    folder = environment_root() / name
    try:
        library = open_place_library(name, environment_root())  # not a built-in one: this one is written
    except PlaceLibraryError:
        library = PlaceLibrary(name, [])
    done = {p.generator.get("source_sha256") for p in library.places}
    started, imported, failed = time.perf_counter(), 0, 0
    for i, path in enumerate(sources, 1):
        digest = sha256_file(path)
        pid = _place_id(path)
        if digest in done:
            typer.echo(f"[{i}/{len(sources)}] {path}: already imported")
            continue
        t0 = time.perf_counter()
        generator = {"name": "import", "source": str(path.resolve()), "source_sha256": digest}
        try:
            records = import_scene(path, folder, pid, generator, license, attribution, max_triangles,
                                   bake_textures=not procedural)
        except PlaceImportError as exc:
            library.failures[str(path)] = str(exc)
            failed += 1
            typer.echo(f"[{i}/{len(sources)}] {exc}", err=True)
        except Exception as exc:  # a scene Blender cannot read: recorded, the others go on
            library.failures[str(path)] = f"crash: {type(exc).__name__}: {exc}"
            failed += 1
            typer.echo(f"[{i}/{len(sources)}] {path}: failed ({type(exc).__name__}: {exc})", err=True)
        else:
            library.failures.pop(str(path), None)
            ids = {r.place_id for r in records}
            library.places = [p for p in library.places if p.place_id not in ids] + records
            imported += 1
            rooms = ", ".join(f"{r.place_id} ({r.room_type}, {r.free_area_m2} m2 free, {len(r.seats)} seats)"
                              for r in records)
            typer.echo(f"[{i}/{len(sources)}] {path}: {rooms} in {time.perf_counter() - t0:.0f} s")
        library.save(folder)  # after every scene: an interrupted import keeps what it made
    typer.echo(f"library {name!r}: {len(library.places)} places ({imported} imported, {failed} failed) in "
               f"{time.perf_counter() - started:.0f} s -> {folder}")
    typer.echo(f"use it with `environment: {{kind: room, places: {{library: {name}}}}}` in a batch config")
    if not library.places:
        raise typer.Exit(2)


@app.command("build")
def build(name: str = typer.Argument(..., help="The library's name (what environment.places.library names)."),
          generator: str = typer.Option("infinigen-indoors", "--generator", help="The engine that makes them: "
                                        "infinigen-indoors (rooms) or infinigen-assets (props for outdoor worlds)."),
          n: int = typer.Option(1, "--n", min=1, help="How many rooms (or props)."),
          room_types: Optional[list[str]] = typer.Option(None, "--room-types", help="Room types to cycle through "
                                                         "(dining_room, living_room, bedroom, kitchen, bathroom; "
                                                         "default: all)."),
          prop_kinds: Optional[list[str]] = typer.Option(None, "--props", help="infinigen-assets: prop kinds to "
                                                         "cycle through (rock, bush, tree; default: all)."),
          seed: int = typer.Option(0, "--seed", min=0, help="Seed of the first room or prop; the i-th uses seed + i."),
          workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Rooms or props made at once "
                                                "(default: as many as the machine or cluster holds, 2 CPUs and "
                                                "2 GB each)."),
          address: Optional[str] = typer.Option(None, "--address", envvar="RAY_ADDRESS", help="Ray cluster address: "
                                                "they are made on its nodes (default: a Ray started here)."),
          timeout_s: float = typer.Option(3600, "--timeout-s", min=60, help="Give up on a room or prop after this "
                                          "long."),
          max_triangles: int = typer.Option(60_000, "--max-triangles", min=1000, help="A room's meshes above this "
                                            "many triangles, or a whole prop, are simplified to it once when "
                                            "imported."),
          procedural: bool = typer.Option(False, "--procedural-materials", help="Keep Infinigen's node materials "
                                          "instead of baking them to textures (about 2.8x slower to render; "
                                          "plants are never baked)."),
          generator_python: Optional[Path] = typer.Option(None, "--generator-python", help="The Python of an "
                                                          "existing Infinigen environment on every node (default: "
                                                          "one made once per machine in its cache folder).")) -> None:
    """Make rooms (or props) with a procedural engine and add them to a place library. Each is a task of the
    executor (Ray): on a cluster they are made on its nodes and their files come back here. A rerun makes only
    what is not yet made (failed ones again); one that fails is recorded with its reason and the rest go on."""
    from synthact.dispatch.executor import BatchError, WorkerLost
    from synthact.dispatch.ray_executor import RayExecutor
    from synthact.render import infinigen
    from synthact.world.places import PlaceLibrary, PlaceLibraryError, environment_root, open_place_library

    if generator not in ("infinigen-indoors", "infinigen-assets"):
        fail(f"--generator {generator!r}: the generators are: infinigen-indoors, infinigen-assets")
    if not re.fullmatch(NAME, name):
        fail(f"library name {name!r}: use lower-case letters, digits, _ and -")
    rooms = generator == "infinigen-indoors"
    if (room_types if not rooms else prop_kinds):
        fail(f"--{'room-types' if not rooms else 'props'} is not read by --generator {generator} (it makes "
             f"{'props: --props' if not rooms else 'rooms: --room-types'})")
    known = infinigen.ROOM_TYPES if rooms else infinigen.PROP_FACTORIES
    types = (room_types if rooms else prop_kinds) or list(known)
    unknown = [t for t in types if t not in known]
    if unknown:
        fail(f"--{'room-types' if rooms else 'props'} {unknown[0]!r}: Infinigen makes {', '.join(known)}")
    if generator_python is not None and not generator_python.is_file():
        fail(f"{generator_python}: --generator-python names no file")
    folder = environment_root() / name
    try:
        library = open_place_library(name, environment_root())  # not a built-in one: this one is written
    except PlaceLibraryError:
        library = PlaceLibrary(name, [])
    jobs = [infinigen.BuildJob(seed + i, types[i % len(types)]) for i in range(n)]
    made = {p.generator.get("job") for p in library.places + library.props}
    todo = [j for j in jobs if j.name not in made]
    what = "rooms" if rooms else "props"
    typer.echo(f"library {name!r}: {len(jobs) - len(todo)} of {len(jobs)} {what} already made; making {len(todo)}")
    if not todo:
        return
    executor = RayExecutor(address)
    try:
        capacity = executor.open()
    except (BatchError, ConnectionError, RuntimeError) as exc:
        fail(f"--address {address}: cannot connect to Ray ({str(exc).splitlines()[0]})")
    cpus = min(ROOM_CPUS, max(capacity.cpus, 1))
    typer.echo(f"making {what} on {capacity.cpus} CPUs ({cpus} each"
               + (f", {workers} at once)" if workers else ")") + (" on the cluster at " + address if address else ""))
    python = str(generator_python.absolute()) if generator_python else None  # not resolved: a venv's python is a link
    logs = folder / "_logs"
    started, done, failed = time.perf_counter(), 0, 0
    try:
        results = executor.tasks(infinigen.make, todo, (python, timeout_s, max_triangles, not procedural),
                                 cpus=cpus, memory_bytes=ROOM_MEMORY_BYTES, at_once=workers)
        for job, built in results:
            if isinstance(built, WorkerLost):
                why = f"{built.reason}: {built.message}"
            else:
                why = built.why
                if built.log:
                    logs.mkdir(parents=True, exist_ok=True)
                    (logs / f"{job.name}.log").write_text(built.log + "\n")
                    why = why and f"{why} (log: {logs / f'{job.name}.log'})"
            if not why:
                ids = {p.place_id for p in built.places} | {p.prop_id for p in built.props}
                for folder_name in ids:
                    shutil.rmtree(folder / folder_name, ignore_errors=True)
                folder.mkdir(parents=True, exist_ok=True)
                with tarfile.open(fileobj=io.BytesIO(built.archive)) as tar:
                    tar.extractall(folder, filter="data")  # refuses paths outside the folder
                library.places = [p for p in library.places if p.place_id not in ids] + built.places
                library.props = [p for p in library.props if p.prop_id not in ids] + built.props
                library.failures.pop(job.name, None)
                done += 1
            else:
                library.failures[job.name] = why
                failed += 1
            library.save(folder)  # after every room: an interrupted build keeps what it made
            finished = done + failed
            elapsed = time.perf_counter() - started
            eta = elapsed / finished * (len(todo) - finished)
            status = f"failed: {why}" if why else "made"
            typer.echo(f"[{finished}/{len(todo)}] {job.name} {status} | {finished / elapsed * 3600:.1f} {what}/h, "
                       f"ETA {eta / 60:.0f} min")
    finally:
        executor.close()
    typer.echo(f"library {name!r}: {len(library.places)} places, {len(library.props)} props ({done} made, "
               f"{failed} failed) in "
               f"{(time.perf_counter() - started) / 60:.1f} min -> {folder}")
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_libraries() -> None:
    """Place libraries, their places and props."""
    from synthact.world.places import environment_root, list_place_libraries

    names = list_place_libraries()
    if not names:
        typer.echo(f"no place library in {environment_root()} (import one: synthact environments import NAME DIR)")
    from synthact.world.places import is_builtin

    for name in names:
        lib = _library(name)
        types = sorted({p.room_type for p in lib.places})
        shipped = " [built in]" if is_builtin(lib) else ""
        typer.echo(f"{name}{shipped}: {len(lib.places)} places ({', '.join(types)}), {len(lib.props)} props, "
                   f"{len(lib.failures)} failed")
        for p in lib.places:
            typer.echo(f"  {p.place_id}: {p.room_type}, {p.floor_area_m2} m2 floor ({p.free_area_m2} free), "
                       f"{len(p.seats)} seats, {len(p.objects)} objects, {p.triangles:,} triangles, {p.license}")
        for p in lib.props:
            typer.echo(f"  {p.prop_id}: {p.semantic_class}, {p.height_m} m high, {p.radius_m} m footprint "
                       f"radius, {p.triangles:,} triangles, {p.license}")


@app.command("show")
def show(name: str = typer.Argument(..., help="A place library."),
         place: Optional[str] = typer.Option(None, "--place", help="One place (default: the first)."),
         props: bool = typer.Option(False, "--props", help="The library's props instead (and with --out, a "
                                    "picture of them side by side)."),
         out: Optional[Path] = typer.Option(None, "--out", help="Write a picture (.png): the place from above "
                                            "with its walkable floor tinted and its seats drawn, beside its floor "
                                            "map (furniture by height).")) -> None:
    """A place's record, and a picture of it from above with its walkable floor and seats (a library of props
    only: the props, and a picture of them side by side)."""
    lib = _library(name)
    if props or (not lib.places and lib.props):
        if not lib.props:
            fail(f"place library {name!r} has no props")
        return _show_props(lib, out)
    if not lib.places:
        fail(f"place library {name!r} has no places and no props")
    record = lib.places[0] if place is None else next((p for p in lib.places if p.place_id == place), None)
    if record is None:
        fail(f"place library {name!r} has no place {place!r} (places: {', '.join(p.place_id for p in lib.places)})")
    classes: dict[str, int] = {}
    for o in record.objects:
        classes[o.semantic_class] = classes.get(o.semantic_class, 0) + 1
    typer.echo(f"{record.place_id}: {record.room_type}, {record.floor_area_m2} m2 floor, {record.free_area_m2} m2 "
               f"free, ceiling {record.ceiling_z - record.floor_z:.2f} m, {record.triangles:,} triangles")
    typer.echo("objects: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
    typer.echo("seats: " + (", ".join(f"{s.kind} at ({s.position_xy[0]:.2f}, {s.position_xy[1]:.2f}) "
                                      f"{s.height_m:.2f} m high, facing {s.facing_deg:.0f} deg"
                                      for s in record.seats) or "none"))
    typer.echo(f"lights: {len(record.lights)}; licence {record.license}; generator {record.generator.get('name')}")
    if out is not None:
        import numpy as np
        from PIL import Image

        from synthact.world.preview import floor_map
        output_file(out, (".png",), "picture")
        grid = lib.floor(record)
        plain = np.asarray(floor_map(grid, record))
        from synthact.render.blender.places import top_view  # Blender draws the place from above
        above = np.asarray(floor_map(grid, record, above=top_view(lib.scene_path(record), record, grid)))
        gap = np.full((plain.shape[0], 8, 3), 255, np.uint8)
        try:
            Image.fromarray(np.concatenate([above, gap, plain], axis=1)).save(out)
        except OSError as exc:
            fail(f"{out}: cannot write the floor map ({exc.strerror or exc})")
        typer.echo(f"the place from above with its walkable floor and seats, and its floor map -> {out}")


def _show_props(lib, out: Optional[Path]) -> None:
    """A library's props, and a picture of them side by side."""
    for p in lib.props:
        typer.echo(f"{p.prop_id}: {p.semantic_class}, {p.height_m} m high, {p.radius_m} m footprint radius, "
                   f"{p.triangles:,} triangles, {p.license}")
    if out is None:
        return
    output_file(out, (".png",), "picture")
    from PIL import Image

    from synthact.render.blender.places import prop_lineup
    try:
        Image.fromarray(prop_lineup([(lib.scene_path(p), p) for p in lib.props])).save(out)
    except OSError as exc:
        fail(f"{out}: cannot write the picture ({exc.strerror or exc})")
    typer.echo(f"the library's {len(lib.props)} props side by side -> {out}")


@app.command("remove")
def remove(name: str = typer.Argument(..., help="A place library.")) -> None:
    """Delete a place library (its folder in the environment root)."""
    from synthact.world.places import is_builtin

    lib = _library(name)
    if is_builtin(lib):
        fail(f"place library {name!r} ships with SynthAct ({lib.folder}); it cannot be removed")
    shutil.rmtree(lib.folder)
    typer.echo(f"removed place library {name!r} ({lib.folder})")
