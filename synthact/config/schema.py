"""JSON schemas of the configs, for editors and validators (`synthact schema`)."""
from __future__ import annotations

from .batch import BatchConfig


def batch_config_schema() -> dict:
    return BatchConfig.model_json_schema()
