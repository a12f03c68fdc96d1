"""Scenes: batch configs checked against assets and libraries, and the deterministic sampler that turns
(config, seed, index) into a SceneSpec, with train/val/test splits that hold out factors."""
from .loading import load_batch_config, parse_batch_config
from .sampler import SceneSampler

__all__ = ["SceneSampler", "load_batch_config", "parse_batch_config"]
