"""Run by Infinigen's own Python (it pins bpy 4.2; nothing of SynthAct is importable there): one asset of one of
Infinigen's asset factories, its geometry made real (modifiers applied, geometry-node instances such as leaves
realized, as Infinigen's own exporter does), saved alone as a .blend. A tree is made as a thinned level of detail
first (THINNED_TREE): made real as Infinigen makes it, one is ~1e9 triangles.

    python infinigen_asset.py MODULE FACTORY SEED OUT.blend
"""
import importlib
import sys

import bpy


def realize_and_apply(obj) -> None:
    for mod in list(obj.modifiers):
        if mod.type == "NODES" and mod.node_group is not None:
            tree = mod.node_group
            output = next(n for n in tree.nodes if n.type == "GROUP_OUTPUT")
            if output.inputs[0].links:
                link = output.inputs[0].links[0]
                source = link.from_socket
                tree.links.remove(link)
                realize = tree.nodes.new("GeometryNodeRealizeInstances")
                tree.links.new(realize.inputs[0], source)
                tree.links.new(output.inputs[0], realize.outputs[0])
    bpy.context.view_layer.objects.active = obj
    for mod in list(obj.modifiers):
        try:
            bpy.ops.object.modifier_apply(modifier=mod.name)
        except RuntimeError:  # nothing to apply (no mesh out): the modifier goes
            obj.modifiers.remove(mod)


# Infinigen's trees as a prop: its twigs and leaves thinned (each density times the factor; leaves and branches
# scaled by 1/sqrt(factor) so the crown keeps its cover; twigs keep their length: scaled too, they stuck out of the
# crown as long bare spikes), seen from 25 m (the trunk meshed for that distance), no fruit.
# Measured (2026-12-06/07, 2 cores): 70-200 s and ~2 GB a tree, 0.2-3.6M triangles, against a Blender abort made
# whole.
# In leaf (summer): thinned, autumn and spring trees keep a few leaves or flowers on bare branches.
THINNED_TREE = {"branch": 0.1, "crown": 0.15, "distance_m": 25.0, "fruit_chance": 0.0, "season": "summer"}


def thin_trees() -> None:
    """Infinigen's tree generators thinned by THINNED_TREE (its functions replaced before the factory runs)."""
    from infinigen.assets.objects.trees import branch, tree

    sample_branch, add_children = branch.BranchFactory.sample_branch_params, tree.add_tree_children
    k_branch, k_crown = THINNED_TREE["branch"], THINNED_TREE["crown"]

    def sample_branch_params(self):
        params = sample_branch(self)
        for what in ("twig", "leaf"):
            params[f"{what} density"] *= k_branch
        params["leaf scale"] /= k_branch ** 0.5
        return params

    def add_tree_children(nw, child_col, params, **kwargs):
        params = dict(params)
        if "Density" in params:
            params["Density"] *= k_crown
            for name in ("Min scale", "Max scale"):
                if name in params:
                    params[name] /= k_crown ** 0.5
        return add_children(nw, child_col, params, **kwargs)

    branch.BranchFactory.sample_branch_params = sample_branch_params
    tree.add_tree_children = add_tree_children


def main(module: str, factory: str, seed: int, out: str) -> None:
    if factory == "TreeFactory":
        thin_trees()
        asset = getattr(importlib.import_module(module), factory)(
            seed, season=THINNED_TREE["season"], fruit_chance=THINNED_TREE["fruit_chance"]).spawn_asset(
            0, distance=THINNED_TREE["distance_m"])
    else:
        asset = getattr(importlib.import_module(module), factory)(seed).spawn_asset(0)
    keep = {asset, *asset.children_recursive}
    for obj in keep:  # before anything else goes: the modifiers read other objects (twigs, leaves)
        if obj.type == "MESH":
            realize_and_apply(obj)
    for obj in list(bpy.data.objects):
        if obj not in keep:
            bpy.data.objects.remove(obj)
    bpy.ops.outliner.orphans_purge(do_recursive=True)
    bpy.ops.wm.save_as_mainfile(filepath=out, compress=True)
    parts = sum(len(o.data.polygons) for o in keep if o.type == "MESH")
    print(f"saved {asset.name} ({len(keep)} objects, {parts} polygons) to {out}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
