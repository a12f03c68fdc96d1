"""Motions: the procedural action taxonomy, motion records and importers."""
