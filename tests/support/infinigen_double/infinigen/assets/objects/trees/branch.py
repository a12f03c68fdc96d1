"""Test double (see infinigen/__init__.py): what infinigen_asset.thin_trees replaces."""


class BranchFactory:
    def sample_branch_params(self):
        return {"twig density": 10.0, "leaf density": 10.0, "twig scale": 5.0, "leaf scale": 0.3}
