"""Test double (see infinigen/assets/objects/factory.py)."""
from ..factory import DoubleFactory


class BoulderFactory(DoubleFactory):
    height = 1.0
