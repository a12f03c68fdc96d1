"""Run by Infinigen's own Python (it pins bpy 4.2; nothing of SynthAct is importable there): one asset of one of
Infinigen's asset factories, its geometry made real (modifiers applied, geometry-node instances such as leaves
realized, as Infinigen's own exporter does), saved alone as a .blend.

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


def main(module: str, factory: str, seed: int, out: str) -> None:
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
