"""The clip format: a registry of modalities (files, arrays, QC checks, preview columns), the one
reader every later stage uses, the writer, the video codec and previews."""
from .files import MANIFEST, clip_problem, is_complete, manifest_problem, sha256_file
from .modalities import MODALITIES, Modality, modality
from .reader import ClipError, ClipReader, Keypoints
from .records import CameraRecord
from .writer import ClipWriter, Layers, SceneClipWriter, write_clip

__all__ = ["MANIFEST", "MODALITIES", "CameraRecord", "ClipError", "ClipReader", "ClipWriter", "Keypoints", "Layers",
           "Modality", "SceneClipWriter", "clip_problem", "is_complete", "manifest_problem", "modality", "sha256_file",
           "write_clip"]
