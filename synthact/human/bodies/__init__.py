"""Body models: turn (shape, motion) into per-frame geometry. Backends: anny (default) and SMPL-X/SMPL."""
from .base import COCO17_NAMES, COCO17_SKELETON, PART_NAMES, BodyGeometry, BodyModel, body_geometry, load_body_model

__all__ = ["COCO17_NAMES", "COCO17_SKELETON", "PART_NAMES", "BodyGeometry", "BodyModel", "body_geometry", "load_body_model"]
