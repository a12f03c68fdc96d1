"""Video backbones: R3D-18, R(2+1)D-18 and a 2D ResNet-18 with temporal shift (TSM).

Written here (torchvision's video models need a torchvision build that does not load beside the CPU
torch used on these machines), after the published architectures: R3D-18 has 33.2 M parameters;
R(2+1)D-18 picks each factored convolution's middle width so it has as many parameters as the 3D
convolution it replaces (33.2 M); the TSM ResNet-18 has 11.2 M.
Input (B, 3, T, H, W); output features (B, 8 * width), 512 at the published width of 64. A smaller width
(e.g. 16: about 1/16 of the compute) suits CPU-sized experiments.
"""
from __future__ import annotations

import torch
from torch import nn


class Conv3DSimple(nn.Conv3d):
    def __init__(self, cin: int, cout: int, mid: int | None = None, stride: int = 1):
        super().__init__(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class Conv2Plus1D(nn.Sequential):
    """A 3x3x3 convolution factored into 1x3x3 spatial then 3x1x1 temporal (mid channels keep the count)."""

    def __init__(self, cin: int, cout: int, mid: int, stride: int = 1):
        super().__init__(
            nn.Conv3d(cin, mid, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
            nn.Conv3d(mid, cout, (3, 1, 1), (stride, 1, 1), (1, 0, 0), bias=False))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, cout: int, conv, stride: int = 1):
        super().__init__()
        mid = cin * cout * 27 // (cin * 9 + 3 * cout)  # R(2+1)D: as many parameters as the 3D convolution
        self.conv1 = nn.Sequential(conv(cin, cout, mid, stride), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))
        mid2 = cout * cout * 27 // (cout * 9 + 3 * cout)
        self.conv2 = nn.Sequential(conv(cout, cout, mid2), nn.BatchNorm3d(cout))
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv3d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm3d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return self.relu(out + (x if self.down is None else self.down(x)))


class VideoResNet(nn.Module):
    def __init__(self, conv, stem: nn.Module, width: int = 64, layers=(2, 2, 2, 2)):
        super().__init__()
        self.stem = stem
        blocks, cin = [], width
        for i, (count, cout) in enumerate(zip(layers, (width, 2 * width, 4 * width, 8 * width))):
            for b in range(count):
                blocks.append(BasicBlock(cin, cout, conv, stride=2 if (b == 0 and i > 0) else 1))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.feature_dim = 8 * width
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.pool(self.layers(self.stem(x))).flatten(1)


def r3d_18(width: int = 64) -> VideoResNet:
    stem = nn.Sequential(nn.Conv3d(3, width, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(width),
                         nn.ReLU(inplace=True))
    return VideoResNet(Conv3DSimple, stem, width)


def r2plus1d_18(width: int = 64) -> VideoResNet:
    mid = width * 45 // 64
    stem = nn.Sequential(nn.Conv3d(3, mid, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(mid),
                         nn.ReLU(inplace=True), nn.Conv3d(mid, width, (3, 1, 1), (1, 1, 1), (1, 0, 0), bias=False),
                         nn.BatchNorm3d(width), nn.ReLU(inplace=True))
    return VideoResNet(Conv2Plus1D, stem, width)


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
