"""`synthact environments`: import, build (its orchestration, with a test double of Infinigen), list, show and
remove, and their bad input (one line, exit 2)."""
import ast
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from support.places import tiny_room_scene

DOUBLE = ROOT / "tests" / "support" / "infinigen_double"


def synthact(*args, env=None):
    return subprocess.run([sys.executable, "-m", "synthact", *map(str, args)], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=900)


def test_build_makes_rooms_resumes_and_records_failures(tmp_path):
    scene = tiny_room_scene(tmp_path / "room.blend")
    env = {"SYNTHACT_ENVIRONMENTS": str(tmp_path / "envs"), "PYTHONPATH": str(DOUBLE),
           "SYNTHACT_TEST_ROOM": str(scene), "SYNTHACT_TEST_CRASH_SEEDS": "6"}
    args = ("environments", "build", "rooms", "--n", "3", "--seed", "5", "--room-types", "dining_room",
            "--room-types", "bedroom", "--generator-python", sys.executable)
    first = synthact(*args, env=env)
    assert first.returncode == 1, first.stderr
    assert "[3/3]" in first.stdout and "rooms/h, ETA" in first.stdout
    library = json.loads((tmp_path / "envs" / "rooms" / "library.json").read_text())
    made = {p["generator"]["job"]: p for p in library["places"]}
    assert set(made) == {"dining_room-seed5", "dining_room-seed7"}  # seed 6 (a bedroom) crashed
    assert library["failures"]["bedroom-seed6"].startswith("crash (exit 3): Traceback: the solver failed")
    place = made["dining_room-seed5"]
    assert place["generator"]["version"] == "test-double" and place["generator"]["seed"] == 5
    assert "restrict_parent_rooms=[\"DiningRoom\"]" in place["generator"]["command"]
    assert place["license"] == "BSD-3-Clause" and "Infinigen" in place["attribution"]
    assert "(log: " in library["failures"]["bedroom-seed6"]  # the generator's output, sent back from its task
    assert "the solver failed" in (tmp_path / "envs" / "rooms" / "_logs" / "bedroom-seed6.log").read_text()
    assert sorted(p.name for p in (tmp_path / "envs" / "rooms").iterdir()) == [
        "_logs", "dining_room-seed5", "dining_room-seed7", "library.json"]  # the places' files, not Infinigen's

    again = synthact(*args, env={**env, "SYNTHACT_TEST_CRASH_SEEDS": ""})
    assert again.returncode == 0, again.stderr
    assert "2 of 3 rooms already made; making 1" in again.stdout
    library = json.loads((tmp_path / "envs" / "rooms" / "library.json").read_text())
    assert len(library["places"]) == 3 and not library["failures"]

    listed = synthact("environments", "list", env=env)
    assert "rooms: 3 places" in listed.stdout and "bedroom-seed6" in listed.stdout
    out = tmp_path / "map.png"
    shown = synthact("environments", "show", "rooms", "--place", "dining_room-seed5", "--out", out, env=env)
    assert shown.returncode == 0 and "seats: chair at" in shown.stdout
    image = Image.open(out)
    assert image.size[0] > 100 and len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 4  # floor, seat, …
    assert synthact("environments", "remove", "rooms", env=env).returncode == 0
    assert not (tmp_path / "envs" / "rooms").exists()


def test_build_makes_props_for_outdoor_worlds(tmp_path):
    env = {"SYNTHACT_ENVIRONMENTS": str(tmp_path / "envs"), "PYTHONPATH": str(DOUBLE), "SYNTHACT_TEST_CRASH_SEEDS": "2"}
    args = ("environments", "build", "nature", "--generator", "infinigen-assets", "--n", "3", "--props", "rock",
            "--max-triangles", "1000", "--generator-python", sys.executable)
    first = synthact(*args, env=env)
    assert first.returncode == 1, first.stderr
    library = json.loads((tmp_path / "envs" / "nature" / "library.json").read_text())
    props = {p["prop_id"]: p for p in library["props"]}
    assert set(props) == {"rock-seed0", "rock-seed1"} and not library["places"]  # seed 2 crashed
    assert library["failures"]["rock-seed2"].startswith("crash (exit 3): Traceback: the factory failed")
    rock = props["rock-seed0"]
    assert rock["semantic_class"] == "rock" and rock["generator"]["name"] == "infinigen-assets"
    assert 1.3 < rock["height_m"] < 1.55  # the 1 m stem and the (smoothed) 0.5 m crown above it, from z = 0
    assert 0.3 < rock["radius_m"] < 0.55  # the crown, centred: the factory made it 3 m off the origin
    assert rock["triangles"] <= 1000 and "CVPR 2023" in rock["attribution"]
    assert props["rock-seed1"]["generator"]["command"] == ("synthact/render/blender/infinigen_asset.py "
                                                            "infinigen.assets.objects.rocks.boulder BoulderFactory 1 "
                                                            "OUT/scene.blend")
    assert (tmp_path / "envs" / "nature" / "rock-seed0" / "prop.blend").is_file()
    import bpy
    with bpy.data.libraries.load(str(tmp_path / "envs" / "nature" / "rock-seed0" / "prop.blend")) as (src, dst):
        dst.meshes = list(src.meshes)
    used = {v for m in dst.meshes for p in m.polygons for v in p.vertices}
    assert len(used) == sum(len(m.vertices) for m in dst.meshes)  # the factory's 50 loose vertices are gone
    listed = synthact("environments", "list", env=env)
    assert "nature: 0 places" in listed.stdout and "2 props" in listed.stdout, listed.stdout


def test_bushes_take_infinigen_plant_factories_in_turn_and_keep_their_node_materials(tmp_path):
    import bpy
    env = {"SYNTHACT_ENVIRONMENTS": str(tmp_path / "envs"), "PYTHONPATH": str(DOUBLE)}
    run = synthact("environments", "build", "garden", "--generator", "infinigen-assets", "--n", "4", "--props", "bush",
                   "--props", "rock", "--max-triangles", "1000", "--generator-python", sys.executable, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    library = json.loads((tmp_path / "envs" / "garden" / "library.json").read_text())
    props = {p["prop_id"]: p for p in library["props"]}
    assert {k: (p["semantic_class"], p["generator"]["factory"]) for k, p in props.items()} == {
        "bush-seed0": ("bush", "FernFactory"), "rock-seed1": ("rock", "BoulderFactory"),
        "bush-seed2": ("bush", "AgaveMonocotFactory"), "rock-seed3": ("rock", "BoulderFactory")}
    assert "small_plants.fern FernFactory 0" in props["bush-seed0"]["generator"]["command"]

    def node_types(prop_id):
        with bpy.data.libraries.load(str(tmp_path / "envs" / "garden" / prop_id / "prop.blend")) as (src, dst):
            dst.materials = list(src.materials)
        return {n.type for m in dst.materials if m and m.node_tree for n in m.node_tree.nodes}

    assert "TEX_NOISE" in node_types("bush-seed0") and "TEX_IMAGE" not in node_types("bush-seed0")  # not baked
    assert "TEX_IMAGE" in node_types("rock-seed1") and "TEX_NOISE" not in node_types("rock-seed1")  # baked


def test_a_tree_is_made_thinned_and_its_generators_are_thinned_by_the_recipe(tmp_path):
    env = {"SYNTHACT_ENVIRONMENTS": str(tmp_path / "envs"), "PYTHONPATH": str(DOUBLE)}
    run = synthact("environments", "build", "woods", "--generator", "infinigen-assets", "--n", "1", "--props", "tree",
                   "--max-triangles", "1000", "--generator-python", sys.executable, env=env)
    # the double refuses a tree made whole, out of leaf or with fruit
    assert run.returncode == 0, run.stdout + run.stderr
    prop = json.loads((tmp_path / "envs" / "woods" / "library.json").read_text())["props"][0]
    assert prop["semantic_class"] == "tree" and prop["generator"]["factory"] == "TreeFactory"
    script = subprocess.run([sys.executable, "-c", textwrap.dedent("""\
        import sys
        sys.path.insert(0, "synthact/render/blender")
        import infinigen_asset
        from infinigen.assets.objects.trees import branch, tree
        infinigen_asset.thin_trees()
        print(branch.BranchFactory().sample_branch_params())
        print(tree.add_tree_children(None, None, {"Density": 1.0, "Min scale": 0.5, "Max scale": 0.8}))
        """)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(DOUBLE)}, capture_output=True, text=True)
    branch_params, crown = (ast.literal_eval(line) for line in script.stdout.splitlines()[-2:])
    assert branch_params["twig density"] == pytest.approx(1.0) and branch_params["leaf density"] == pytest.approx(1.0)
    assert branch_params["leaf scale"] == pytest.approx(0.3 / 0.1 ** 0.5)
    assert branch_params["twig scale"] == pytest.approx(5.0)  # twigs keep their length (scaled: bare spikes)
    assert crown == pytest.approx({"Density": 0.15, "Min scale": 0.5 / 0.15 ** 0.5, "Max scale": 0.8 / 0.15 ** 0.5})


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    env = {"SYNTHACT_ENVIRONMENTS": str(tmp_path / "envs")}
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "dir.png").mkdir()
    for args, words in [
        (("environments", "import", "x", tmp_path / "nope"), "not found"),
        (("environments", "import", "x", tmp_path / "notes.txt"), "not a scene file"),
        (("environments", "import", "Bad Name", tmp_path / "notes.txt"), "library name"),
        (("environments", "show", "nope"), "no place library 'nope'"),
        (("environments", "remove", "nope"), "no place library 'nope'"),
        (("environments", "build", "x", "--generator", "other"), "generators are: infinigen-indoors, infinigen-assets"),
        (("environments", "build", "x", "--props", "rock"), "--props is not read by --generator infinigen-indoors"),
        (("environments", "build", "x", "--generator", "infinigen-assets", "--props", "palm"), "--props 'palm'"),
        (("environments", "build", "x", "--room-types", "garage"), "--room-types 'garage'"),
        (("environments", "build", "x", "--generator-python", tmp_path / "nope"), "names no file"),
    ]:
        run = synthact(*args, env=env)
        assert run.returncode == 2 and words in run.stderr and len(run.stderr.strip().splitlines()) == 1, (args, run)


def test_a_scene_without_a_floor_is_refused_with_the_reason(tmp_path):
    subprocess.run([sys.executable, "-c", "import bpy; bpy.ops.wm.read_factory_settings(use_empty=True); "
                    "bpy.ops.mesh.primitive_cube_add(); "
                    f"bpy.ops.wm.save_as_mainfile(filepath={str(tmp_path / 'cube.blend')!r})"], check=True,
                   capture_output=True, timeout=300)
    run = synthact("environments", "import", "x", tmp_path / "cube.blend", env={"SYNTHACT_ENVIRONMENTS": str(tmp_path)})
    assert run.returncode == 2 and "no floor" in run.stderr
    library = json.loads((tmp_path / "x" / "library.json").read_text())
    assert not library["places"] and "no floor" in library["failures"][str(tmp_path / "cube.blend")]


def test_procedural_materials_are_baked_to_textures_and_glass_is_kept(tmp_path):
    from support.places import tiny_room_library
    library = tiny_room_library(tmp_path)
    scene = next(library.glob("*/scene.blend"))
    check = ("import bpy, json, sys; from synthact.render.blender.places import load_place; "
             "bpy.ops.wm.read_factory_settings(use_empty=True); "
             "print(json.dumps({o.name: [(m.name, sorted({n.type for n in m.node_tree.nodes})) "
             "for m in o.data.materials if m] for o in load_place(sys.argv[1]) if o.type == 'MESH'}))")
    run = subprocess.run([sys.executable, "-c", check, str(scene)], capture_output=True, text=True, timeout=300)
    materials = json.loads(run.stdout.strip().splitlines()[-1])
    (table_material, table_nodes), = materials["TableDiningFactory(1).spawn_asset(1)"]
    assert table_material.endswith(".baked") and "TEX_IMAGE" in table_nodes and "TEX_NOISE" not in table_nodes
    (pane_material, pane_nodes), = materials["WindowFactory(9).spawn_asset(1)"]
    assert pane_material == "glass" and "BSDF_GLASS" in pane_nodes
