"""Test double (see infinigen/assets/objects/factory.py)."""
from ..factory import DoubleFactory


class FernFactory(DoubleFactory):
    height = 0.6
