"""SynthAct: synthetic human action videos for training video models.

Layers, lowest first (docs/ARCHITECTURE.md): spec and rng (contracts), config, human, scene, clip,
render, dispatch and dataset, train, cli.
"""

__version__ = "0.2.0"
