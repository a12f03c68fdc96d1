"""SynthAct: synthetic human action videos for training video models.

Layers, lowest first (docs/ARCHITECTURE.md): spec and rng (contracts), config, human, scene, clip,
render, dispatch and dataset, train, cli.
"""

__version__ = "0.2.0"

# The Python API for notebooks (README "Python API"); imported on first use, so `import synthact` stays light.
_API = {
    "load_clip": "synthact.clip.reader:load_clip",  # a clip directory or a shard sample -> ClipReader
    "decode_rgb": "synthact.clip.video:decode_video",  # video bytes or a path -> (T, H, W, 3) uint8
    "clips": "synthact.train.loading:clips",  # a dataset's clips as ClipReaders
    "webdataset_pipeline": "synthact.train.loading:webdataset_pipeline",  # decoded samples
    "collate_clips": "synthact.train.loading:collate_clips",  # pads the actor axis
    "loader": "synthact.train.loading:loader",  # a torch DataLoader of collated batches
}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'synthact' has no attribute {name!r}")
    import importlib
    module, attribute = _API[name].split(":")
    return getattr(importlib.import_module(module), attribute)
