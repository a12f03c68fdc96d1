"""A place's floor map as an image: the room's walkable floor, what stands on it (darker: taller), its seats
with the way a sitter faces, and a 1 m scale bar; optionally drawn over a picture of the place from above
(render/blender/places.py: top_view). North (+Y) is up."""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

from .places import FloorGrid, PlaceRecord


def floor_map(grid: FloorGrid, place: PlaceRecord, pixels_per_m: int = 80,
              above: np.ndarray | None = None) -> Image.Image:
    """The map; over `above` (an RGB picture from straight above, framed on the grid) the walkable floor is tinted
    green and what is outside the room dimmed."""
    scale = max(1, round(pixels_per_m * grid.cell_m))
    h, w = grid.room.shape
    image = np.full((h, w, 3), 40, np.uint8)  # outside the room
    image[grid.free] = (120, 200, 120)  # walkable
    blocked = grid.room & ~grid.free
    shade = np.clip(1.0 - grid.obstacle_top_m / 2.0, 0.25, 1.0)[..., None]
    image[blocked] = (np.array([200, 170, 130]) * shade[blocked]).astype(np.uint8)
    image = cv2.resize(image[::-1], (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
    if above is not None:
        photo = cv2.resize(above, (w * scale, h * scale), interpolation=cv2.INTER_AREA).astype(np.float32)
        free = cv2.resize(grid.free[::-1].astype(np.uint8), (w * scale, h * scale),
                          interpolation=cv2.INTER_NEAREST).astype(bool)
        room = cv2.resize(grid.room[::-1].astype(np.uint8), (w * scale, h * scale),
                          interpolation=cv2.INTER_NEAREST).astype(bool)
        photo[free] = 0.6 * photo[free] + 0.4 * np.array([60, 220, 60])
        photo[~room] *= 0.35
        image = photo.clip(0, 255).astype(np.uint8)
    image = np.ascontiguousarray(image)

    def pixel(xy) -> tuple[int, int]:
        col = (xy[0] - grid.origin_xy[0]) / grid.cell_m * scale
        row = (h - (xy[1] - grid.origin_xy[1]) / grid.cell_m) * scale
        return int(round(col)), int(round(row))

    for seat in place.seats:
        centre = pixel(seat.position_xy)
        a = math.radians(seat.facing_deg)  # 0 = facing -Y
        tip = pixel((seat.position_xy[0] + 0.4 * math.sin(a), seat.position_xy[1] - 0.4 * math.cos(a)))
        cv2.circle(image, centre, max(4, scale * 2), (40, 90, 220), -1, cv2.LINE_AA)
        cv2.arrowedLine(image, centre, tip, (40, 90, 220), 2, cv2.LINE_AA, tipLength=0.3)
    bar = int(round(1.0 / grid.cell_m * scale))
    cv2.line(image, (10, image.shape[0] - 12), (10 + bar, image.shape[0] - 12), (255, 255, 255), 3)
    cv2.putText(image, "1 m", (14 + bar, image.shape[0] - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                cv2.LINE_AA)
    cv2.putText(image, f"{place.place_id} ({place.room_type})", (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (255, 255, 255), 1, cv2.LINE_AA)
    return Image.fromarray(image)
