"""The clip format: a registry of modalities (files, arrays, QC checks, preview columns), the one
reader every later stage uses, the writer, the video codec and previews."""
from .files import MANIFEST, is_complete, sha256_file
from .modalities import MODALITIES, Modality, modality
from .reader import ClipError, ClipReader, Keypoints
from .records import CameraRecord
from .writer import ClipWriter, Layers, write_clip

__all__ = ["MANIFEST", "MODALITIES", "CameraRecord", "ClipError", "ClipReader", "ClipWriter", "Keypoints", "Layers",
           "Modality", "is_complete", "modality", "sha256_file", "write_clip"]
