"""The world around the actors, described without a renderer (Kubric's scene/asset split): environment kinds,
grounds, skies, weather, semantic classes and place libraries.

Each is a registry read by config validation, the sampler, the clip text, the Blender builders
(render/blender/) and the annotation ray cast alike, so a new entry is declared once.
"""
