"""Test double (see infinigen/assets/objects/factory.py)."""
from ..factory import DoubleFactory


class TussockMonocotFactory(DoubleFactory):
    height = 0.5
