"""Configuration at the edge: YAML with line numbers, problems that name file:line field, the
BatchConfig schema and its distributions, and the asset manifests that configs refer to."""
from .assets import AssetRegistry, ResolvedPack, display_path
from .batch import BATCH_NAME_PATTERN, BatchConfig
from .loading import load_model, parse_model, read_document
from .problems import InvalidFile, Problem
from .yaml_source import YamlDocument, YamlError

__all__ = ["AssetRegistry", "BATCH_NAME_PATTERN", "BatchConfig", "InvalidFile", "Problem",
           "ResolvedPack", "YamlDocument", "YamlError", "display_path", "load_model", "parse_model",
           "read_document"]
