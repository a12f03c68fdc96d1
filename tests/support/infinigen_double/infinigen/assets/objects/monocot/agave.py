"""Test double (see infinigen/assets/objects/factory.py)."""
from ..factory import DoubleFactory


class AgaveMonocotFactory(DoubleFactory):
    height = 0.8
