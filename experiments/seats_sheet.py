"""Sitters and what they sit on (docs/seats.png): a procedural sit on the bench built for it outdoors, and recorded
sits (tests/support/mocap.py's sits, made on a 0.62 m and a 0.45 m seat) on a stool built at the recorded height,
outdoors and in the starter room, and on the starter sofa where its height fits. Renders into OUT/clips, then
draws the sheet with places_sheet.py.

    python experiments/seats_sheet.py OUT --sheet docs/seats.png
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = (  # (environment kind, motion library, clip)
    ("outdoor", "procedural", "sit_down"),
    ("outdoor", "sits", "sit_stool"),
    ("room", "sits", "sit_stool"),
    ("room", "sits", "sit_chair"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sheet", type=Path, required=True)
    args = parser.parse_args()
    libraries = Path(tempfile.mkdtemp(prefix="synthact-sits-"))
    os.environ["SYNTHACT_MOTION_LIBRARIES"] = str(libraries)
    sys.path.insert(0, str(ROOT / "tests"))
    from support.mocap import SITS, sits_mocap_folder
    from synthact.clip import ClipReader
    from synthact.config.assets import AssetRegistry
    from synthact.config.batch import BatchConfig
    from synthact.human.motions.import_library import import_library
    from synthact.human.motions.library import MotionLibrary
    from synthact.render.worker import RenderWorker
    from synthact.scene.sampler import SceneSampler
    import_library("sits", sits_mocap_folder(libraries / "files"), root=libraries)
    registry = AssetRegistry.load()
    worker = RenderWorker(device="cpu", registry=registry)
    for k, (kind, library, clip) in enumerate(SHOTS):
        config = BatchConfig.model_validate({
            "batch": {"name": "seats", "seed": 11 + k},
            "camera": {"fov_deg": 55, "framing": 0.55, "height_m": 1.3, "roll_deg": 0, "pitch_offset_deg": -5,
                       "yaw_deg": {"min": -60, "max": 60}},
            "environment": {"kind": kind, **({"places": {"library": "starter"}} if kind == "room" else
                                             {"props_density": 0.2, "weather": {"type": "clear"}})},
            "motion": {**({} if library == "procedural" else {"library": library}), "mirror_probability": 0,
                       "selection": {"policy": "explicit", "clips": [clip]},
                       "window": {"min_energy": 0.0, "start_fraction": 1.0}},
            "render": {"resolution": {"width": 192, "height": 192}, "fps": 15, "frames": 24}})
        sampler = SceneSampler.create(config, registry)
        motions = MotionLibrary.open(library, registry)

        def sits_fully(s) -> bool:  # a procedural sit, or a recorded window that reaches the recorded seat
            height = motions.seating(s.actors[0].motion).height_m
            return s.actors[0].seat is not None and (height is None or abs(height - SITS[clip]) < 0.03)
        spec = next(s for s in (sampler.sample(i) for i in range(60)) if sits_fully(s))
        folder = worker.render(spec, args.out / "clips")
        placement = ClipReader.from_dir(folder).stats["placement"]
        print(f"{kind} {clip}: on a {spec.actors[0].seat.kind} (built: {spec.actors[0].seat.built}), "
              f"seat gap {placement['seat_gap_m'][0]} m")
    subprocess.run([sys.executable, str(ROOT / "experiments" / "places_sheet.py"), str(args.out), "--out",
                    str(args.sheet), "--frame", "lowest"], check=True)


if __name__ == "__main__":
    main()
