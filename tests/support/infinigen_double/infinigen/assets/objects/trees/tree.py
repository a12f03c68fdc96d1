"""Test double (see infinigen/__init__.py): what infinigen_asset.thin_trees replaces."""


def add_tree_children(nw, child_col, params, merge_dist=None, realize=False):
    return params
