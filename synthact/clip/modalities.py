"""The clip format as a registry: each modality names its files, the arrays in them (key, dtype, shape),
its QC checks and its contact-sheet column. Writers, readers, QC, packing and previews all go through
this table, so a new modality is one entry here plus its render pass and annotation function.

Shapes: T frames, H x W pixels, A actors, J = 22 canonical joints, P body-part names.
"""
from __future__ import annotations

from dataclasses import dataclass

from synthact.spec import MODALITY_NAMES

from . import checks, preview


@dataclass(frozen=True)
class Array:
    key: str
    dtype: str
    shape: str
    description: str
    timed: bool = True  # the first axis is the frame (checked against the clip's frame count)


@dataclass(frozen=True)
class ClipFile:
    name: str  # the file in a clip directory and the member suffix in shards
    # video (H.264 mp4) | frames (a folder of JPEGs, clip directories only) | npz | a compact 16-bit PNG
    # codec of quantise.CODECS (depth16, flow16)
    kind: str
    arrays: tuple[Array, ...] = ()
    packed: bool = True  # goes into shards
    rgb_format: str | None = None  # written only when render.rgb_format is this (or "both")
    precision: str | None = None  # written only when render.precision is this (compact or float32)
    layer: str = ""  # the layer it is written from, when not its own name (a compact form of an npz layer)

    @property
    def source(self) -> str:
        return self.layer or self.name

    @property
    def member(self) -> str:
        """Its member name in shards: a compact 16-bit PNG's extension is `.png16` there, so that webdataset's,
        PIL's and Hugging Face's stock image decoders leave its bytes alone instead of reading wrong values
        (synthact.decoders decodes them); other files keep their names."""
        return shard_member(self.name) if self.precision == "compact" else self.name


def shard_member(name: str) -> str:
    return name.removesuffix(".png") + ".png16" if name.endswith(".png") else name


def clip_file_name(member: str) -> str:
    """The clip-directory file a shard member is (shards before format 2 used the file names themselves)."""
    return member.removesuffix(".png16") + ".png" if member.endswith(".png16") else member


@dataclass(frozen=True)
class Modality:
    name: str
    description: str
    files: tuple[ClipFile, ...]
    checks: tuple[checks.Check, ...] = ()
    qc_metrics: tuple[str, ...] = ()  # what the checks measure (one column each in the dataset index)
    preview: preview.Column | None = None


_KEYPOINT_ARRAYS = (
    Array("coco2d", "float32", "T,A,17,3", "COCO-17 keypoints: x, y pixels and visibility (0 out, 1 occluded, 2 seen)"),
    Array("coco3d_world", "float32", "T,A,17,3", "COCO-17 keypoints in the world, metres"),
    Array("coco3d_camera", "float32", "T,A,17,3", "COCO-17 keypoints in the OpenCV camera frame, metres"),
    Array("coco_names", "str", "17", "keypoint names", timed=False),
    Array("joints3d_world", "float32", "T,A,J,3", "the canonical skeleton's joints in the world"),
    Array("joint_names", "str", "J", "canonical joint names", timed=False),
    Array("joint_parents", "int64", "J", "parent of each joint (-1: the root)", timed=False),
    Array("bbox2d", "float32", "T,A,4", "visible box x0, y0, x1, y1 (pixel edges; NaN when not seen)"),
    Array("bbox2d_amodal", "float32", "T,A,4", "box of the whole projected body, clipped to the image"),
)


def _exact_or_compact(stem: str, codec: str, array: Array) -> tuple[ClipFile, ClipFile]:
    """A float32 npz (render.precision: float32) or its 16-bit PNG (compact, the default; quantise.py)."""
    bound = {"depth16": "log-quantised, relative error <= 1.41e-4", "flow16": "1/64 px steps (KITTI), error "
             "<= 1/128 px, components clamped to +-512 px"}[codec]
    compact = Array(array.key, array.dtype, array.shape, f"{array.description}; 16-bit PNG, {bound}")
    return (ClipFile(f"{stem}.png", codec, (compact,), precision="compact", layer=f"{stem}.npz"),
            ClipFile(f"{stem}.npz", "npz", (array,), precision="float32"))


MODALITIES: dict[str, Modality] = {m.name: m for m in (
    Modality("rgb", "the rendered video", (
        ClipFile("rgb.mp4", "video", (Array("", "uint8", "T,H,W,3",
                                               "sRGB frames, H.264 CRF 18 (same frames, same bytes), BT.709"),),
                 rgb_format="mp4"),
        ClipFile("rgb", "frames", (Array("", "uint8", "T,H,W,3", "sRGB frames as JPEG q95"),), packed=False,
                 rgb_format="jpg")),
        checks=(checks.check_rgb,), qc_metrics=("mean_luma",), preview=preview.RGB),
    Modality("depth", "planar z-depth", _exact_or_compact(
        "depth", "depth16", Array("depth", "float32", "T,H,W", "metres along the optical axis; +inf: sky")),
        checks=(checks.check_depth,), qc_metrics=("near_fraction",), preview=preview.DEPTH),
    Modality("flow", "optical flow to the next and the previous frame", (
        *_exact_or_compact("flow_forward", "flow16", Array("flow", "float32", "T,H,W,2",
                                                           "dx, dy to frame t+1 (NaN: sky, and the last frame)")),
        *_exact_or_compact("flow_backward", "flow16", Array("flow", "float32", "T,H,W,2",
                                                            "dx, dy to frame t-1 (NaN: sky, and the first frame)"))),
        checks=(checks.check_flow,), preview=preview.FLOW),
    Modality("segmentation", "instance, body-part, object and semantic maps", (
        ClipFile("segmentation.npz", "npz", (
            Array("instance", "uint8", "T,H,W", "0 background, k + 1 actor k"),
            Array("body_part", "uint8", "T,H,W", "index into body_part_names (0 background)"),
            Array("body_part_names", "str", "P", "body-part names", timed=False),
            Array("semantic", "uint8", "T,H,W", "semantic class: index into semantic_names (person, floor, wall, "
                  "table, ground, sky, ...)"),
            Array("semantic_names", "str", "C", "the semantic classes (synthact/world/semantics.py)", timed=False),
            Array("object", "uint16", "T,H,W", "the static object seen: 1 + index into object_names (0: an actor "
                  "or nothing)"),
            Array("object_names", "str", "O", "the scene's static objects (ground, props, a place's objects)",
                  timed=False),
            Array("object_classes", "str", "O", "each object's semantic class", timed=False),
            Array("visible_fraction", "float32", "T,A", "share of each actor seen: its pixels over those it would "
                  "cover with nothing static in front (occlusion by furniture)"))),),
        checks=(checks.check_segmentation,), qc_metrics=("visible_fraction", "bbox_height_fraction",
                                                        "actor_unoccluded_fraction"),
        preview=preview.SEGMENTATION),
    Modality("keypoints", "2D/3D keypoints, joints and boxes per actor", (
        ClipFile("keypoints.npz", "npz", _KEYPOINT_ARRAYS),),
        checks=(checks.check_keypoints,), qc_metrics=("visible_keypoints_fraction", "lowest_joint_m"),
        preview=preview.KEYPOINTS),
)}

assert tuple(MODALITIES) == MODALITY_NAMES, "spec.MODALITY_NAMES and the registry must list the same modalities"

# Every clip directory also holds these records (not modalities: always written, never optional).
RECORDS = ("spec.json", "camera.json", "stats.json")


def modality(name: str) -> Modality:
    if name not in MODALITIES:
        raise ValueError(f"unknown modality {name!r}; choose from {', '.join(MODALITIES)}")
    return MODALITIES[name]


def expected_files(modalities, rgb_format: str, precision: str = "compact") -> list[ClipFile]:
    """The files a clip rendered with these modalities, rgb_format and precision holds."""
    return [f for name in modalities for f in modality(name).files
            if (f.rgb_format is None or rgb_format in (f.rgb_format, "both"))
            and f.precision in (None, precision)]


def packed_files(names: tuple[str, ...] | list[str]) -> list[ClipFile]:
    """The files that go into shards for these modalities, in registry order."""
    return [f for m in MODALITIES.values() if m.name in names for f in m.files if f.packed]


def qc_metric_names() -> list[str]:
    return [metric for m in MODALITIES.values() for metric in m.qc_metrics]


def format_table() -> str:
    """The registry as the Markdown table docs/FORMAT.md shows (`synthact schema` writes it there)."""
    rows = ["| file | modality | array | dtype | shape | contents |", "|---|---|---|---|---|---|"]
    for m in MODALITIES.values():
        for f in m.files:
            where = f"`{f.name}/`" if f.kind == "frames" else f"`{f.name}`"
            for a in f.arrays:
                key = f"`{a.key}`" if a.key else "frames"
                rows.append(f"| {where} | {m.name} | {key} | {a.dtype} | ({a.shape}) | {a.description} |")
    return "\n".join(rows)
