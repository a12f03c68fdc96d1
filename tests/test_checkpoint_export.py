"""Checkpoints others can load: our R3D-18 / R(2+1)D-18 are torchvision's, key for key, and
`synthact export-weights` writes a trained backbone as torchvision and mmaction2 weights (or refuses, with the
reason). torchvision does not import beside this CPU torch: tests/support/torchvision_video_resnet.py holds its
classes verbatim, and tests/data/torchvision_video_keys.json the keys and shapes of its 400-class models."""
import json
import math

import pytest
import torch
from typer.testing import CliRunner

from conftest import ROOT
from support import torchvision_video_resnet as tv
from synthact.cli import app
from synthact.train import models
from synthact.train.train import TrainConfig, build, save

REFERENCE = json.loads((ROOT / "tests" / "data" / "torchvision_video_keys.json").read_text())
# torchvision's R3D_18_Weights / R2Plus1D_18_Weights meta "num_params" (with the 400-class fc)
DOCUMENTED = {"r3d_18": 33_371_472, "r2plus1d_18": 31_505_325}
FC = 512 * 400 + 400
runner = CliRunner()


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def shapes(model: torch.nn.Module) -> dict:
    return {key: list(value.shape) for key, value in model.state_dict().items()}


def torchvision_backbone(name: str) -> torch.nn.Module:
    model = getattr(tv, name)()
    model.fc = torch.nn.Identity()
    return model.eval()


def test_the_reference_list_is_torchvisions_and_has_its_documented_size():
    # Regenerate with `PYTHONPATH=tests .venv/bin/python -m support.torchvision_video_resnet`.
    assert tv.reference_keys() == REFERENCE
    for name, count in DOCUMENTED.items():
        assert parameters(getattr(tv, name)()) == count
        assert sum(math.prod(shape) for key, shape in REFERENCE[name].items()
                   if not key.endswith(("running_mean", "running_var", "num_batches_tracked"))) == count


@pytest.mark.parametrize("name", ["r3d_18", "r2plus1d_18"])
def test_our_backbones_have_torchvisions_keys_shapes_and_size(name):
    ours = getattr(models, name)(64)
    expected = {key: shape for key, shape in REFERENCE[name].items() if not key.startswith("fc.")}
    assert list(shapes(ours)) == list(expected) and shapes(ours) == expected
    assert parameters(ours) + FC == DOCUMENTED[name]
    assert ours.feature_dim == 512
    if name == "r2plus1d_18":  # one middle width per block: 230, not 288, in the downsampling blocks
        assert expected["layer2.0.conv2.0.0.weight"] == [230, 128, 1, 3, 3]
        assert expected["stem.0.weight"] == [45, 3, 1, 7, 7]


@pytest.mark.parametrize("name", ["r3d_18", "r2plus1d_18"])
def test_our_initialisation_is_torchvisions(name):
    ours = getattr(models, name)(64)
    for module in ours.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
        elif isinstance(module, torch.nn.Conv3d) and module.weight.numel() > 100_000:
            fan_out = module.out_channels * math.prod(module.kernel_size)  # kaiming normal, fan_out, relu
            assert module.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.05)
            assert abs(module.weight.mean().item()) < 0.1 * math.sqrt(2 / fan_out)


@pytest.mark.parametrize("name", ["r3d_18", "r2plus1d_18"])
def test_a_backbone_loads_strictly_into_torchvision_and_computes_the_same(name):
    torch.manual_seed(0)
    ours = models.backbone(name, 4, 64).eval()
    with torch.no_grad():  # not the initial BN statistics: a trained network's
        for module in ours.modules():
            if isinstance(module, torch.nn.BatchNorm3d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
    theirs = torchvision_backbone(name)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
    assert ours(x).shape == (2, 512)


def test_widths_other_than_64_and_the_wrappers_still_build():
    for name in ("r3d_18", "r2plus1d_18", "tsm_r18"):
        for frame_input in ("rgb", "difference", "difference_to_rgb"):
            encoder = models.backbone(name, 4, 8, frame_input)
            assert encoder(torch.randn(2, 3, 4, 32, 32)).shape == (2, 64) and encoder.feature_dim == 64
    assert models.r2plus1d_18(16).stem[0].out_channels == 16 * 45 // 64
    wrapped = models.backbone("r2plus1d_18", 4, 8, "difference_to_rgb")
    assert isinstance(wrapped.inner, models.VideoResNet) and float(wrapped.alpha) == 1


def test_load_encoder_state_refuses_the_pre_torchvision_layout():
    encoder = models.backbone("r3d_18", 4, 8, "difference_to_rgb")
    model_state = {f"encoder_q.{key}": value for key, value in encoder.state_dict().items()}
    fresh = models.backbone("r3d_18", 4, 8, "difference_to_rgb")
    models.load_encoder_state(fresh, model_state)
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), encoder.state_dict().values()))
    models.load_encoder_state(fresh, encoder.state_dict())  # the encoder's own keys do too
    old = {"encoder_q.alpha": torch.ones(()), "encoder_q.inner.stem.0.weight": torch.zeros(8, 3, 3, 7, 7),
           "encoder_q.inner.layers.0.conv1.0.weight": torch.zeros(8, 8, 3, 3, 3)}
    with pytest.raises(ValueError, match="before the R3D/R\\(2\\+1\\)D backbones took torchvision's layout.*retrain"):
        models.load_encoder_state(fresh, old)
    tsm = models.backbone("tsm_r18", 4, 8)  # TSM's keys are layers.N too, and are not old
    models.load_encoder_state(tsm, {f"encoder_q.{k}": v for k, v in models.backbone("tsm_r18", 4, 8)
                                    .state_dict().items()})
    with pytest.raises(ValueError, match="does not fit"):
        models.load_encoder_state(models.backbone("r3d_18", 4, 16), model_state)


def write_run(folder, cfg: TrainConfig, model, optimizer=None, step: int = 1):
    """A run folder as `synthact train` leaves it: last.pt and config.json."""
    folder.mkdir(parents=True, exist_ok=True)
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
    save(model, optimizer, step, folder / "last.pt")
    (folder / "config.json").write_text(cfg.model_dump_json(indent=2))
    return folder / "last.pt"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A width-64 R(2+1)D trained one step (supervised, difference_to_rgb, so the fade is over: alpha 0) and the
    same network saved at alpha 0.5 (mid-curriculum)."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("export")
    cfg = TrainConfig(objective="supervised", classes=3, backbone="r2plus1d_18", frames=4, size=32, batch_size=2,
                      steps=1, frame_input="difference_to_rgb", workers=0)
    model = build(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=cfg.weight_decay)
    model.encoder_q.alpha.fill_(1 - cfg.rgb_share(0))
    losses = model(torch.randn(2, 3, 4, 32, 32), torch.tensor([0, 2]))
    losses["loss"].backward()
    optimizer.step()
    model.encoder_q.alpha.fill_(1 - cfg.rgb_share(1))
    final = write_run(root / "final", cfg, model, optimizer)
    model.encoder_q.alpha.fill_(0.5)
    partial = write_run(root / "partial", cfg.model_copy(update={"steps": 10}), model, step=5)
    model.encoder_q.alpha.fill_(0)
    return {"final": final, "partial": partial, "encoder": model.encoder_q.eval(), "root": root}


def export(*args):
    result = runner.invoke(app, ["export-weights", *map(str, args)])
    return result.exit_code, result.output


def test_export_torchvision_loads_strictly_and_computes_what_the_encoder_did(trained, tmp_path):
    out = tmp_path / "r2plus1d.pth"
    code, output = export(trained["final"], "--format", "torchvision", "--out", out)
    assert code == 0, output
    assert "31,300,125 parameters" in output
    state = torch.load(out)  # the documented loading: torch.load's default weights_only=True
    assert list(state) == [k for k in REFERENCE["r2plus1d_18"] if not k.startswith("fc.")]
    network = torchvision_backbone("r2plus1d_18")
    network.load_state_dict(state, strict=True)
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():  # difference_to_rgb at alpha 0 sees the last T-1 frames as they are
        torch.testing.assert_close(network(clip[:, :, 1:]), trained["encoder"](clip))
    info = json.loads((tmp_path / "r2plus1d.pth.json").read_text())
    assert info["architecture"] == "r2plus1d_18"
    assert info["torchvision_builder"] == "torchvision.models.video.r2plus1d_18"
    assert info["input"]["frames"] == 3 and info["input"]["frame_stride"] == 1 and info["input"]["size"] == [32, 32]
    assert info["input"]["frame_input"] == "rgb" and info["input"]["alpha"] == 0
    assert info["input"]["normalisation"]["mean"] == [0.45] * 3 and info["input"]["normalisation"]["std"] == [0.225] * 3
    assert info["training"]["step"] == 1 and info["training"]["frame_input"] == "difference_to_rgb"
    assert "m.fc = torch.nn.Identity()" in info["load"] and "strict=True" in info["load"] and str(out) in info["load"]
    assert info["parameters"] == DOCUMENTED["r2plus1d_18"] - FC


def test_export_mmaction2_is_a_checkpoint_of_the_backbone(trained, tmp_path):
    out = tmp_path / "mm.pth"
    code, output = export(trained["final"], "--format", "mmaction2", "--out", out)
    assert code == 0, output
    checkpoint = torch.load(out)
    assert set(checkpoint) == {"state_dict", "meta"} and checkpoint["meta"]["step"] == 1
    assert all(key.startswith("backbone.") for key in checkpoint["state_dict"])
    network = torchvision_backbone("r2plus1d_18")
    network.load_state_dict({k.removeprefix("backbone."): v for k, v in checkpoint["state_dict"].items()},
                            strict=True)
    info = json.loads((tmp_path / "mm.pth.json").read_text())
    assert info["format"] == "mmaction2" and "load_checkpoint(model" in info["load"]
    assert "backbone=dict(type=r2plus1d_18)" in info["load"]
    assert info["input"]["normalisation"]["mmaction2_ActionDataPreprocessor"] == {"mean": [114.75] * 3,
                                                                                "std": [57.375] * 3}


def test_a_mid_curriculum_checkpoint_is_refused_unless_allowed(trained, tmp_path):
    out = tmp_path / "w.pth"
    code, output = export(trained["partial"], "--format", "torchvision", "--out", out)
    assert code == 2 and output.count("\n") == 1 and "Traceback" not in output
    assert "alpha = 0.5" in output and "--allow-partial-curriculum" in output and str(trained["partial"]) in output
    assert not out.exists()
    code, output = export(trained["partial"], "--format", "torchvision", "--out", out, "--allow-partial-curriculum")
    assert code == 0, output
    info = json.loads((tmp_path / "w.pth.json").read_text())
    assert info["input"]["frame_input"] == "difference_to_rgb" and info["input"]["alpha"] == 0.5
    assert "x_t - 0.5 * x_(t-1)" in info["input"]["note"]


@pytest.mark.parametrize("update, expected", [
    ({"backbone": "tsm_r18"}, "backbone tsm_r18 has no torchvision or mmaction2 counterpart"),
    ({"backbone": "r3d_18", "width": 16}, "the checkpoint's width is 16; torchvision has no width"),
    ({"backbone": "r3d_18", "frame_input": "difference"}, "frame_input difference: the weights expect "
                                                            "consecutive-frame differences"),
])
def test_export_refuses_what_torchvision_cannot_take(tmp_path, update, expected):
    cfg = TrainConfig(objective="supervised", classes=2, frames=4, width=8, workers=0).model_copy(update=update)
    checkpoint = write_run(tmp_path / "run", cfg, build(cfg))
    for fmt in ("torchvision", "mmaction2"):
        code, output = export(checkpoint, "--format", fmt, "--out", tmp_path / "w.pth")
        assert code == 2 and expected in output and str(checkpoint) in output, output
        assert output.count("\n") == 1 and "Traceback" not in output
    assert not (tmp_path / "w.pth").exists()


def test_export_refuses_a_checkpoint_of_the_pre_torchvision_layout(tmp_path):
    cfg = TrainConfig(backbone="r3d_18", frames=4)
    (tmp_path / "run").mkdir()
    old = {"encoder_q.stem.0.weight": torch.zeros(64, 3, 3, 7, 7), "encoder_q.stem.1.weight": torch.ones(64),
           "encoder_q.layers.0.conv1.0.weight": torch.zeros(64, 64, 3, 3, 3),
           "encoder_q.layers.2.down.0.weight": torch.zeros(128, 64, 1, 1, 1)}
    torch.save({"model": old, "optimizer": {}, "step": 100, "torch_rng": torch.get_rng_state()},
               tmp_path / "run" / "last.pt")
    (tmp_path / "run" / "config.json").write_text(cfg.model_dump_json())
    code, output = export(tmp_path / "run" / "last.pt", "--format", "torchvision", "--out", tmp_path / "w.pth")
    assert code == 2 and output.count("\n") == 1, output
    assert "trained before the R3D/R(2+1)D backbones took torchvision's layout" in output and "retrain" in output


def test_export_refuses_missing_config_unwritable_out_and_unknown_format(tmp_path):
    cfg = TrainConfig(backbone="r3d_18", frames=4, width=8, objective="supervised", classes=2)
    checkpoint = write_run(tmp_path / "run", cfg, build(cfg))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for args, expected in [
        (["--format", "torchvision", "--out", blocker / "w.pth"], "cannot write the weights there"),
        (["--format", "onnx", "--out", tmp_path / "w.pth"], "--format onnx: unknown; choose torchvision or mmaction2"),
        (["--format", "torchvision", "--out", tmp_path / "w.onnx"], "--out must end in .pth or .pt"),
    ]:
        code, output = export(checkpoint, *args)
        assert code == 2 and expected in output and output.count("\n") == 1, output
    (tmp_path / "run" / "config.json").unlink()
    code, output = export(checkpoint, "--format", "torchvision", "--out", tmp_path / "w.pth")
    assert code == 2 and f"{tmp_path / 'run' / 'config.json'}: not found" in output, output
    code, output = export(tmp_path / "nothing.pt", "--format", "torchvision", "--out", tmp_path / "w.pth")
    assert code == 2 and "nothing.pt: not found" in output, output
