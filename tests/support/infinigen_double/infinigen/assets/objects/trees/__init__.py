"""Test double (see infinigen/__init__.py)."""
