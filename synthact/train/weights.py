"""A trained backbone as weights that torchvision and mmaction2 load (`synthact export-weights`).

The R3D-18 and R(2+1)D-18 of models.py are torchvision's module for module, so exporting is renaming: drop the
`encoder_q.` of the training checkpoint and the frame-input wrapper's `inner.` (and its `alpha` buffer).
torchvision: a plain state dict for `torchvision.models.video.r3d_18()` / `r2plus1d_18()` with
`fc = nn.Identity()`. mmaction2 (1.x): a checkpoint `{"state_dict": {"backbone.<key>": ...}, "meta": ...}`
for a `Recognizer3D` whose backbone is that torchvision builder (mmaction2 takes a callable from torchvision
as `backbone=dict(type=...)`; its own ResNet2Plus1d has other widths and names and does not load these),
read by mmengine's `load_checkpoint` or a config's `load_from`. Beside the weights, FILE.json records the
input they expect (frames, stride, size, frame input, pixel normalisation) and how to load them.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from .models import backbone, load_encoder_state, video_resnet

FORMATS = ("torchvision", "mmaction2")
BUILDERS = {"r3d_18": "torchvision.models.video.r3d_18", "r2plus1d_18": "torchvision.models.video.r2plus1d_18"}
# data.crop(): pixels / 255, then (x - 0.45) / 0.225 for R, G and B alike.
MEAN, STD = 0.45, 0.225


class ExportRefused(ValueError):
    """The checkpoint cannot be exported as asked: one line naming what and where."""


def read_checkpoint(checkpoint: Path):
    """(TrainConfig from config.json beside the checkpoint, the checkpoint dict)."""
    from pydantic import ValidationError

    from .train import TrainConfig

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise ExportRefused(f"{checkpoint}: not found (expected a checkpoint written by synthact train)")
    config = checkpoint.parent / "config.json"
    if not config.is_file():
        raise ExportRefused(f"{config}: not found (the training config written beside the checkpoint; without it "
                            f"the architecture and input of {checkpoint.name} are unknown)")
    try:
        cfg = TrainConfig.model_validate_json(config.read_text())
    except (OSError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExportRefused(f"{config}: not a training config written by synthact train ({first})") from None
    refuse_architecture(checkpoint, cfg)
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several kinds for a file that is not a checkpoint
        raise ExportRefused(f"{checkpoint}: cannot read it as a checkpoint ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise ExportRefused(f"{checkpoint}: not a checkpoint written by synthact train (no 'model' state)")
    return cfg, state


def refuse_architecture(checkpoint: Path, cfg) -> None:
    """What the training config alone rules out: another backbone, another width, difference input."""
    if cfg.backbone not in BUILDERS:
        raise ExportRefused(f"{checkpoint}: backbone {cfg.backbone} has no torchvision or mmaction2 counterpart; "
                            f"only {' and '.join(BUILDERS)} export")
    if cfg.frame_input == "difference":
        raise ExportRefused(f"{checkpoint}: frame_input difference: the weights expect consecutive-frame "
                            f"differences, while torchvision and mmaction2 feed the frames themselves (RGB); train "
                            f"with frame_input: difference_to_rgb to get RGB weights")
    if cfg.width != 64:
        raise ExportRefused(f"{checkpoint}: the checkpoint's width is {cfg.width}; torchvision has no width (its "
                            f"{cfg.backbone} is width 64): train with width: 64 to export")


def exportable_encoder(checkpoint: Path, cfg, state: dict, allow_partial_curriculum: bool = False):
    """The checkpoint's encoder, loaded (refused when it has the pre-torchvision layout or is a difference_to_rgb
    one from before the fade ended, unless allowed): (encoder, alpha or None)."""
    where = f"{checkpoint}"
    model = state["model"]
    encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
    try:
        load_encoder_state(encoder, model)
    except ValueError as exc:
        raise ExportRefused(f"{where}: {exc}") from None
    alpha = None
    if cfg.frame_input == "difference_to_rgb":
        alpha = float(encoder.alpha)
        if alpha != 0 and not allow_partial_curriculum:
            raise ExportRefused(f"{where}: frame_input difference_to_rgb with encoder_q.alpha = {alpha:g} (step "
                                f"{state.get('step')} of {cfg.steps}, before the fade to RGB ended): the weights "
                                f"expect x_t - {alpha:g} * x_(t-1), not RGB; export the final checkpoint, or pass "
                                f"--allow-partial-curriculum")
    return encoder, alpha


def torchvision_state(encoder) -> dict[str, torch.Tensor]:
    """torchvision's key names: the VideoResNet's own (the wrapper's `inner.` and `alpha` left behind)."""
    return {key: value.detach().clone().contiguous() for key, value in video_resnet(encoder).state_dict().items()}


def loading_snippet(cfg, fmt: str, out: Path) -> str:
    name = cfg.backbone
    if fmt == "torchvision":
        return (f"import torch, torchvision\n"
                f"m = torchvision.models.video.{name}()\n"
                f"m.fc = torch.nn.Identity()  # the backbone gives 512 features; put your own head here\n"
                f"m.load_state_dict(torch.load({str(out)!r}), strict=True)")
    mean, std = round(MEAN * 255, 4), round(STD * 255, 4)
    return (f"from mmengine.runner import load_checkpoint\n"
            f"from torchvision.models.video import {name}\n"
            f"from mmaction.registry import MODELS\n"
            f"from mmaction.utils import register_all_modules\n"
            f"register_all_modules()\n"
            f"model = MODELS.build(dict(\n"
            f"    type='Recognizer3D',\n"
            f"    backbone=dict(type={name}),  # the function: the string 'torchvision.{name}' is looked up in "
            f"torchvision.models, which has no video builders\n"
            f"    cls_head=dict(type='I3DHead', num_classes=NUM_CLASSES, in_channels=512, spatial_type=None),\n"
            f"    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[{mean}] * 3, std=[{std}] * 3, "
            f"format_shape='NCTHW')))\n"
            f"load_checkpoint(model, {str(out)!r}, map_location='cpu', strict=False)  # backbone.*; the head "
            f"stays to be trained (or: load_from = {str(out)!r} in a config)")


def input_record(cfg, fmt: str, out: Path, checkpoint: Path, state: dict, alpha: float | None, keys: int,
                 parameters: int, digest: str) -> dict:
    frames = cfg.frames - 1 if cfg.frame_input == "difference_to_rgb" else cfg.frames
    partial = alpha is not None and alpha != 0
    expects = "difference_to_rgb" if partial else "rgb"
    record = {
        "format": fmt,
        "file": out.name,
        "sha256": digest,
        "architecture": cfg.backbone,
        "torchvision_builder": BUILDERS[cfg.backbone],
        "feature_dim": 512,
        "state_dict_keys": keys,
        "parameters": parameters,
        "input": {
            "layout": "(B, 3, T, H, W), RGB",
            "frames": frames,
            "frame_stride": cfg.frame_stride,
            "size": [cfg.size, cfg.size],
            "frame_input": expects,
            "normalisation": {"pixels": "uint8 / 255", "mean": [MEAN] * 3, "std": [STD] * 3,
                              "formula": f"(x / 255 - {MEAN}) / {STD}, the same for R, G and B",
                              "mmaction2_ActionDataPreprocessor": {"mean": [round(MEAN * 255, 4)] * 3,
                                                                   "std": [round(STD * 255, 4)] * 3}},
        },
        "training": {"checkpoint": str(checkpoint), "step": state.get("step"), "steps": cfg.steps,
                     "objective": cfg.objective, "pairs": cfg.pairs, "frame_input": cfg.frame_input,
                     "frames": cfg.frames, "encoder": "encoder_q"},
        "load": loading_snippet(cfg, fmt, out),
    }
    if cfg.frame_input == "difference_to_rgb":
        record["input"]["note"] = (
            f"trained on {cfg.frames}-frame clips as differences faded into RGB; the network saw the last "
            f"{frames} frames" + (f", each as x_t - {alpha:g} * x_(t-1) (alpha = {alpha:g}: the fade was not over "
                                  f"at step {state.get('step')})" if partial else " as RGB (alpha = 0)"))
        record["input"]["alpha"] = alpha
    return record


def export_backbone(checkpoint: Path, format: str, out: Path, allow_partial_curriculum: bool = False) -> dict:
    """Write the checkpoint's backbone as `format` weights to `out` and the input they expect to out + ".json".

    Returns what was written: {"weights", "info", "format", "architecture", "keys", "parameters", "step"}.
    Raises ExportRefused (a ValueError) with one line naming what and where.
    """
    checkpoint, out = Path(checkpoint), Path(out)
    if format not in FORMATS:
        raise ExportRefused(f"--format {format}: unknown; choose {' or '.join(FORMATS)}")
    cfg, state = read_checkpoint(checkpoint)
    encoder, alpha = exportable_encoder(checkpoint, cfg, state, allow_partial_curriculum)
    weights = torchvision_state(encoder)
    parameters = sum(p.numel() for p in video_resnet(encoder).parameters())
    if format == "torchvision":
        payload = weights
    else:
        payload = {"state_dict": {f"backbone.{key}": value for key, value in weights.items()},
                   "meta": {"synthact": f"export-weights --format mmaction2 of {checkpoint.name}",
                            "backbone": BUILDERS[cfg.backbone], "step": state.get("step"),
                            "config": json.loads(cfg.model_dump_json())}}
    info = out.with_name(out.name + ".json")
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, tmp)
        tmp.replace(out)
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        record = input_record(cfg, format, out, checkpoint, state, alpha, len(weights), parameters, digest)
        info.write_text(json.dumps(record, indent=2) + "\n")
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportRefused(f"{out}: cannot write the weights there ({exc.strerror or exc})") from None
    return {"weights": str(out), "info": str(info), "format": format, "architecture": cfg.backbone,
            "keys": len(weights), "parameters": parameters, "step": state.get("step"), "alpha": alpha}
