"""Test double of Infinigen's package, for `synthact environments build` orchestration tests only."""
__version__ = "test-double"
