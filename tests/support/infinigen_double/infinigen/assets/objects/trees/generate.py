"""Test double (see infinigen/assets/objects/factory.py): a tree factory that takes the arguments the thinned tree
of synthact/render/blender/infinigen_asset.py passes."""
from ..factory import DoubleFactory


class TreeFactory(DoubleFactory):
    height = 3.0

    def __init__(self, seed, season=None, fruit_chance=1.0):
        super().__init__(seed)
        self.season, self.fruit_chance = season, fruit_chance

    def spawn_asset(self, i, distance=None):
        assert self.fruit_chance == 0.0 and distance is not None and self.season == "summer", \
            "a tree is made thinned, in leaf, without fruit"
        return super().spawn_asset(i)
