from pathlib import Path

import pytest

from generator.assets import AssetRegistry
from generator.config import BatchConfig, load_batch_config

ROOT = Path(__file__).resolve().parent.parent
PRESETS = sorted((ROOT / "scene_configs").glob("*.yaml"))


@pytest.fixture(scope="session")
def registry() -> AssetRegistry:
    return AssetRegistry.load(ROOT / "assets_manifests")


@pytest.fixture(scope="session")
def smoke_config(registry) -> BatchConfig:
    return load_batch_config(ROOT / "scene_configs" / "smoke.yaml", registry)


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
