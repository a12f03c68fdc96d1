"""The renderer's failure contract with dispatch."""
from __future__ import annotations


class SceneError(Exception):
    """A scene that cannot be rendered as specified; the message names the scene and the problem.

    reason: invalid_spec (the spec is at fault) or missing_asset (a pack, library or clip is absent);
    neither is retried."""

    def __init__(self, scene_id: str, problem: str, reason: str = "invalid_spec"):
        self.scene_id, self.problem, self.reason = scene_id, problem, reason
        super().__init__(f"scene {scene_id}: {problem}")
