"""A quick look at fitted garments: flat-shaded orthographic views drawn with OpenCV (no Blender).

`python -m synthact.human.garments.preview OUT_DIR [ASSET ...]` writes front and side views of a walking
and an arm-raising actor for a few shapes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SKIN = (0.80, 0.62, 0.52)
VIEWS = {"front": (0, 2, 1), "side": (1, 2, 0)}  # (image x axis, image up axis, depth axis; depth grows away)


def draw(meshes: list[tuple[np.ndarray, np.ndarray, tuple[float, float, float]]], view: str = "front",
         size: int = 480, bounds: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Meshes [(vertices (V, 3), faces (F, 3), rgb 0..1)] -> BGR uint8 image, painter's algorithm."""
    import cv2

    ax, up, depth = VIEWS[view]
    if bounds is None:
        every = np.concatenate([v for v, _, _ in meshes])
        bounds = every.min(0), every.max(0)
    lo, hi = bounds
    span = max(hi[ax] - lo[ax], hi[up] - lo[up]) * 1.1
    centre = (lo + hi) / 2
    triangles, colours, depths = [], [], []
    light = np.zeros(3)
    light[[ax, up, depth]] = (0.3, 0.5, -0.8)
    light /= np.linalg.norm(light)
    for vertices, faces, rgb in meshes:
        tri = vertices[faces]
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
        shade = 0.35 + 0.65 * np.abs(normal @ light)  # two-sided: garment windings vary
        xy = np.stack([(tri[..., ax] - centre[ax]) / span + 0.5, 0.5 - (tri[..., up] - centre[up]) / span], -1)
        triangles.append(np.round(xy * size * 16).astype(np.int32))  # 4 bits of sub-pixel precision
        colours.append(shade[:, None] * np.array(rgb)[None, ::-1] * 255)
        # sorted by the nearest corner: large garment triangles over small skin ones then draw last
        depths.append((tri[..., depth] * (1 if view == "front" else -1)).min(1))
    triangles, colours, depths = np.concatenate(triangles), np.concatenate(colours), np.concatenate(depths)
    image = np.full((size, size, 3), 255, np.uint8)
    for i in np.argsort(-depths, kind="stable"):  # far to near
        cv2.fillConvexPoly(image, triangles[i], colours[i].tolist(), lineType=cv2.LINE_AA, shift=4)
    return image


def main(argv: list[str]) -> None:
    import cv2

    from synthact.human.bodies import body_geometry, load_body_model
    from synthact.human.motions import procedural
    from synthact.spec import BodyShapeSpec

    from .library import GarmentLibrary, hidden_faces

    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    library = GarmentLibrary.builtin()
    names = argv[1:] or ["outfit/male_casualsuit01", "shoes/shoes01", "hair/short02"]
    assets = [library.load(*name.split("/")) for name in names]
    palette = [(0.2, 0.3, 0.6), (0.15, 0.15, 0.15), (0.35, 0.22, 0.1), (0.6, 0.2, 0.2), (0.2, 0.5, 0.3)]
    model = load_body_model("anny")
    shapes = {"average": {}, "heavy": {"weight": 1.0, "muscle": 0.7}, "thin": {"weight": 0.0}}
    for shape_name, change in shapes.items():
        values = dict.fromkeys(("gender", "age", "muscle", "weight", "height", "proportions"), 0.5) | change
        for motion_name in ("walk_forward_fast", "reach_both_up"):
            body = body_geometry(model, BodyShapeSpec(**values), procedural.generate(motion_name, 0, duration=1.0))
            faces = body.faces[~hidden_faces(assets, body.faces)]
            for frame in (0, len(body.vertices) // 2):
                meshes = [(body.vertices[frame], faces, SKIN)]
                meshes += [(a.fit(body.vertices[frame]), a.faces, palette[i % len(palette)])
                           for i, a in enumerate(assets)]
                image = np.hstack([draw(meshes, view) for view in VIEWS])
                path = out / f"{'+'.join(a.name for a in assets)}_{shape_name}_{motion_name}_{frame}.png"
                cv2.imwrite(str(path), image)
                print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
