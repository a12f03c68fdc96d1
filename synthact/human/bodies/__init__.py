"""Body models: turn (shape, motion) into per-frame geometry. Backends: anny (default) and SMPL-X/SMPL."""
from __future__ import annotations

from .base import COCO17_NAMES, COCO17_SKELETON, PART_NAMES, BodyGeometry, BodyModel, body_geometry

__all__ = ["COCO17_NAMES", "COCO17_SKELETON", "PART_NAMES", "BodyGeometry", "BodyModel", "body_geometry",
           "load_body_model", "prepare_body_model", "BACKENDS"]


# Backends are imported on first use: each needs torch and its own model package.
def _anny(name: str, registry, **options) -> BodyModel:
    from .anny_body import AnnyBody
    return AnnyBody(**options)


def _smplx(name: str, registry, **options) -> BodyModel:
    from synthact.config.assets import AssetRegistry

    from .smplx_body import SmplxBody
    registry = registry or AssetRegistry.load()
    pack = registry.get("body_model", name)
    if pack is None:
        raise FileNotFoundError(registry.missing_message("body_model", name))
    return SmplxBody.from_pack(pack, **options)


BACKENDS = {"anny": _anny, "smplx": _smplx, "smpl": _smplx}


def load_body_model(name: str, registry=None, **options) -> BodyModel:
    """The backend for a body_model pack; smplx/smpl need their pack declared (licensed files)."""
    if name not in BACKENDS:
        raise KeyError(f"unknown body model {name!r} (known: {', '.join(BACKENDS)})")
    return BACKENDS[name](name, registry, **options)


def prepare_body_model(name: str, announce=print) -> bool:
    """Build what a body model caches on this machine (anny's ~790 MB cache) before workers load it; True
    when this call did the work (announced first). Backends without a cache have nothing to prepare."""
    if name != "anny":
        return False
    from .anny_body import prepare_cache
    return prepare_cache(announce)
