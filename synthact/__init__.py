"""SynthAct generator: batch config schema, deterministic scene sampler, bodies, motions, manager, CLI."""

__version__ = "0.1.0"
