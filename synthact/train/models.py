"""Video backbones: R3D-18, R(2+1)D-18 and a 2D ResNet-18 with temporal shift (TSM).

R3D-18 and R(2+1)D-18 are torchvision's `torchvision.models.video.r3d_18` / `r2plus1d_18` module for module
(written here because torchvision's wheels do not load beside the CPU torch of these machines): the same
modules, state-dict keys (`stem.0.weight`, `layer1.0.conv1.0.weight`, `layer2.0.downsample.0.weight`, ...),
shapes and initialisation, less the classifier `fc`, since a backbone returns features. So a checkpoint's
encoder loads into torchvision with `fc = nn.Identity()` (synthact/train/weights.py exports it). At width 64
R3D-18 has 33,166,272 parameters and R(2+1)D-18 31,300,125 (torchvision's 33,371,472 and 31,505,325 less
the 400-class fc's 205,200); R(2+1)D picks each block's middle width once so a factored convolution has
about the parameters of the 3D one it replaces. The TSM ResNet-18 has 11.2 M.
Input (B, 3, T, H, W); output features (B, 8 * width), 512 at the published width of 64. A smaller width
(e.g. 16: about 1/16 of the compute) suits CPU-sized experiments; torchvision has no width, so only width 64
exports.
"""
from __future__ import annotations

import re

import torch
from torch import nn


class Conv3DSimple(nn.Conv3d):
    """torchvision's 3x3x3 convolution of R3D (midplanes unused)."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int | None = None, stride: int = 1,
                 padding: int = 1):
        super().__init__(in_planes, out_planes, kernel_size=(3, 3, 3), stride=stride, padding=padding, bias=False)

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class Conv2Plus1D(nn.Sequential):
    """torchvision's 3x3x3 convolution factored into 1x3x3 spatial, BN, ReLU, 3x1x1 temporal."""

    def __init__(self, in_planes: int, out_planes: int, midplanes: int, stride: int = 1, padding: int = 1):
        super().__init__(
            nn.Conv3d(in_planes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride),
                      padding=(0, padding, padding), bias=False),
            nn.BatchNorm3d(midplanes), nn.ReLU(inplace=True),
            nn.Conv3d(midplanes, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1),
                      padding=(padding, 0, 0), bias=False))

    @staticmethod
    def get_downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class BasicBlock(nn.Module):
    """torchvision's video BasicBlock: one middle width for both convolutions, computed from (inplanes, planes)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, conv_builder, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        midplanes = (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)
        self.conv1 = nn.Sequential(conv_builder(inplanes, planes, midplanes, stride), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv_builder(planes, planes, midplanes), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.conv2(self.conv1(x))
        out += residual
        return self.relu(out)


class BasicStem(nn.Sequential):
    """R3D's stem: 3x7x7 convolution, BN, ReLU."""

    def __init__(self, width: int = 64):
        super().__init__(nn.Conv3d(3, width, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
                         nn.BatchNorm3d(width), nn.ReLU(inplace=True))


class R2Plus1dStem(nn.Sequential):
    """R(2+1)D's stem: 1x7x7 to 45 channels (at width 64), BN, ReLU, 3x1x1 to width, BN, ReLU."""

    def __init__(self, width: int = 64):
        mid = width * 45 // 64
        super().__init__(
            nn.Conv3d(3, mid, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
            nn.Conv3d(mid, width, kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(width), nn.ReLU(inplace=True))


class VideoResNet(nn.Module):
    """torchvision's VideoResNet without `fc`: stem, layer1..layer4, avgpool; returns (B, 8 * width) features."""

    def __init__(self, block, conv_makers, layers, stem, width: int = 64):
        super().__init__()
        self.inplanes = width
        self.stem = stem(width)
        self.layer1 = self._make_layer(block, conv_makers[0], width, layers[0], stride=1)
        self.layer2 = self._make_layer(block, conv_makers[1], 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, conv_makers[2], 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, conv_makers[3], 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.feature_dim = 8 * width * block.expansion
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.avgpool(x).flatten(1)

    def _make_layer(self, block, conv_builder, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv3d(self.inplanes, planes * block.expansion, kernel_size=1,
                          stride=conv_builder.get_downsample_stride(stride), bias=False),
                nn.BatchNorm3d(planes * block.expansion))
        layers = [block(self.inplanes, planes, conv_builder, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, conv_builder) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


def r3d_18(width: int = 64) -> VideoResNet:
    return VideoResNet(BasicBlock, [Conv3DSimple] * 4, [2, 2, 2, 2], BasicStem, width)


def r2plus1d_18(width: int = 64) -> VideoResNet:
    return VideoResNet(BasicBlock, [Conv2Plus1D] * 4, [2, 2, 2, 2], R2Plus1dStem, width)


class TemporalShift(nn.Module):
    """Shift 1/8 of the channels one frame back and 1/8 one frame forward, then apply the wrapped conv."""

    def __init__(self, conv: nn.Module, frames: int, fold_div: int = 8):
        super().__init__()
        self.conv, self.frames, self.fold_div = conv, frames, fold_div

    def forward(self, x):
        bt, c, h, w = x.shape
        x = x.view(bt // self.frames, self.frames, c, h, w)
        fold = c // self.fold_div
        out = torch.zeros_like(x)
        out[:, :-1, :fold] = x[:, 1:, :fold]
        out[:, 1:, fold:2 * fold] = x[:, :-1, fold:2 * fold]
        out[:, :, 2 * fold:] = x[:, :, 2 * fold:]
        return self.conv(out.view(bt, c, h, w))


class TSMResNet18(nn.Module):
    """2D ResNet-18 on every frame with temporal shift in each residual block; features averaged over time."""

    def __init__(self, frames: int, width: int = 64):
        super().__init__()
        self.frames = frames
        layers, cin = [], width
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        for i, cout in enumerate((width, 2 * width, 4 * width, 8 * width)):
            for b in range(2):
                stride = 2 if (b == 0 and i > 0) else 1
                layers.append(_Block2D(cin, cout, stride, frames))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.feature_dim = 8 * width

    def forward(self, x):
        b, c, t, h, w = x.shape
        x = x.transpose(1, 2).reshape(b * t, c, h, w)
        x = self.layers(self.stem(x)).mean(dim=(2, 3))
        return x.view(b, t, -1).mean(1)


class _Block2D(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, frames: int):
        super().__init__()
        conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.body = nn.Sequential(TemporalShift(conv1, frames), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.down = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + (x if self.down is None else self.down(x)))


class FrameDifferences(nn.Module):
    """Feed the wrapped backbone the T-1 differences of consecutive frames instead of the T frames.

    Static appearance (background, clothing colours, light) cancels; what moves remains. Residual-frame
    input is known to help 3D CNNs trained from scratch on small data pick up motion rather than scenes.
    """

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.feature_dim = inner.feature_dim

    def forward(self, x):
        return self.inner(x[:, :, 1:] - x[:, :, :-1])


class DifferencesToRGB(nn.Module):
    """A curriculum from frame differences to RGB: the wrapped backbone sees x_t - alpha * x_(t-1) over the
    last T-1 frames; training lowers alpha from 1 (differences) to 0 (the RGB frames themselves).

    Why: MoCo with GATA pairs on RGB from scratch collapses at small scale (two renders share only the
    motion, which an untrained network cannot see in RGB; docs/EXPERIMENTS.md), while on differences it
    learns. Started on differences, the network learns to see motion, then carries it over as the
    appearance is faded in. alpha is a buffer, so a checkpoint evaluates with the input it was trained on.
    """

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.feature_dim = inner.feature_dim
        self.register_buffer("alpha", torch.ones(()))

    def forward(self, x):
        return self.inner(x[:, :, 1:] - self.alpha * x[:, :, :-1])


def backbone(name: str, frames: int, width: int = 64, frame_input: str = "rgb") -> nn.Module:
    """frame_input: "rgb" (the frames), "difference" (consecutive-frame differences, FrameDifferences) or
    "difference_to_rgb" (DifferencesToRGB: differences faded into RGB during training)."""
    builders = {"r3d_18": lambda t, w: r3d_18(w), "r2plus1d_18": lambda t, w: r2plus1d_18(w),
                "tsm_r18": TSMResNet18}
    if name not in builders:
        raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(builders)}")
    if frame_input == "rgb":
        return builders[name](frames, width)
    if frame_input == "difference":
        return FrameDifferences(builders[name](frames - 1, width))
    if frame_input == "difference_to_rgb":
        return DifferencesToRGB(builders[name](frames - 1, width))
    raise ValueError(f"unknown frame_input {frame_input!r}; choose rgb, difference or difference_to_rgb")


PRE_TORCHVISION_LAYOUT = re.compile(r"^(encoder_q\.)?(inner\.)?layers\.\d+\.")


def pre_torchvision_layout(model_state: dict) -> str | None:
    """A key showing that an R3D/R(2+1)D state dict has the layout used before the backbones took torchvision's
    (`layers.N`, `down`, `pool`), or None. (TSM's keys are `layers.N` too: only ask of the video ResNets.)"""
    return next((key for key in model_state if PRE_TORCHVISION_LAYOUT.match(key)), None)


def pre_torchvision_message(key: str) -> str:
    return (f"trained before the R3D/R(2+1)D backbones took torchvision's layout (it has {key!r}, not "
            f"'layer1.0.conv1...'): its weights do not fit this version; retrain it")


def video_resnet(encoder: nn.Module) -> VideoResNet | None:
    """The R3D/R(2+1)D inside an encoder (itself, or a frame-input wrapper's `inner`), else None."""
    inner = getattr(encoder, "inner", encoder)
    return inner if isinstance(inner, VideoResNet) else None


def load_encoder_state(encoder: nn.Module, model_state: dict) -> None:
    """Load a checkpoint's encoder into `encoder` (strictly). `model_state` is the checkpoint's "model" (whose
    encoder keys start with `encoder_q.`) or the encoder's own state dict.

    Raises ValueError for a checkpoint of an R3D/R(2+1)D from before the torchvision layout, or one that
    does not fit the encoder (another backbone, width or frame input).
    """
    prefixed = any(key.startswith("encoder_q.") for key in model_state)
    state = {key[len("encoder_q."):]: value for key, value in model_state.items()
             if key.startswith("encoder_q.")} if prefixed else dict(model_state)
    if video_resnet(encoder) is not None:
        old = pre_torchvision_layout(state)
        if old is not None:
            raise ValueError(pre_torchvision_message(("encoder_q." if prefixed else "") + old))
    try:
        encoder.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"the checkpoint's encoder does not fit the configured backbone: "
                         f"{' '.join(str(exc).split())[:400]}") from None
