"""Garments and hair (synthact.human.garments): the shipped assets load, fit anny bodies of any shape in any
pose, hide the skin they cover, and fail with a GarmentAssetError naming the file when a file is bad."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from synthact.human.bodies import PART_NAMES, body_geometry, load_body_model
from synthact.human.garments import KINDS, GarmentAssetError, GarmentLibrary, fit, hidden_faces
from synthact.human.garments.binding import bind, closest_points_on_triangles, fit_binding
from synthact.human.garments.convert import write_npz
from synthact.human.garments.coverage import coverage, poke_through
from synthact.human.garments.makehuman import read_mhclo
from synthact.human.motions import procedural
from synthact.spec import BodyShapeSpec

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "assets" / "makehuman"
SHAPES = {
    "thin": BodyShapeSpec(gender=0.5, age=0.5, muscle=0.2, weight=0.0, height=0.5, proportions=0.5),
    "heavy": BodyShapeSpec(gender=0.5, age=0.5, muscle=0.7, weight=1.0, height=0.5, proportions=0.5),
    "short": BodyShapeSpec(gender=0.3, age=0.6, muscle=0.5, weight=0.5, height=0.0, proportions=0.5),
    "tall": BodyShapeSpec(gender=1.0, age=0.5, muscle=0.5, weight=0.5, height=1.0, proportions=0.5),
}
MOTIONS = ("walk_forward_fast", "reach_both_up")  # walking, and both arms raised overhead
HEAD = PART_NAMES.index("head")


@pytest.fixture(scope="module")
def anny():
    return load_body_model("anny")


@pytest.fixture(scope="module")
def bodies(anny):
    """(shape, motion) -> BodyGeometry, 10 frames per second for 1.5 s."""
    return {(s, m): body_geometry(anny, shape, procedural.generate(m, 0, fps=10, duration=1.5))
            for s, shape in SHAPES.items() for m in MOTIONS}


@pytest.fixture(scope="module")
def library():
    return GarmentLibrary.builtin()


@pytest.fixture(scope="module")
def trees(bodies):
    """(shape, motion) -> a KD-tree of the body's vertices per frame."""
    return {key: [cKDTree(frame) for frame in g.vertices] for key, g in bodies.items()}


def nearest_body_distance(frame_trees: list, points: np.ndarray) -> np.ndarray:
    """(T, V) distance from each fitted point to the nearest body vertex of its frame."""
    return np.stack([tree.query(p)[0] for tree, p in zip(frame_trees, points)])


def test_every_shipped_asset_loads(library):
    index = library.index
    assert [(a["kind"], a["name"]) for a in index["assets"]] == sorted((a["kind"], a["name"]) for a in index["assets"])
    counts = {kind: len(library.names(kind)) for kind in KINDS}
    assert counts == {"outfit": 12, "shoes": 6, "hat": 2, "hair": 10, "eyebrows": 12, "eyelashes": 4}
    assert library.kinds() == list(KINDS)
    for kind in KINDS:
        names = library.names(kind)
        assert names == sorted(names)
        for name in names:
            asset = library.load(kind, name)
            entry = library.entry(kind, name)
            assert (asset.kind, asset.name) == (kind, name)
            assert asset.vertex_count == entry.info["vertices"] and len(asset.faces) == entry.info["faces"]
            assert asset.faces.min() >= 0 and asset.faces.max() < asset.vertex_count
            assert asset.uv.shape == (len(asset.faces), 3, 2) and np.isfinite(asset.uv).all()
            blend = np.bincount(asset.binding.point, weights=asset.binding.blend, minlength=asset.vertex_count)
            assert np.allclose(blend, 1, atol=1e-5)
            assert {"roughness", "transparent", "diffuse_color"} <= set(asset.material)
    assert len(library.skins) == 18 and all(s["palette"] for s in library.skins)
    attribution = (library.root / "ATTRIBUTION.md").read_text()
    assert index["source"]["commit"] in attribution and "CC0" in attribution
    assert "CC0 1.0 Universal" in (library.root / "LICENSE.txt").read_text()


def test_unknown_names_list_the_known_ones(library):
    with pytest.raises(KeyError, match="no hair named 'mohawk' .*short01"):
        library.load("hair", "mohawk")
    with pytest.raises(KeyError, match="unknown garment kind 'cape'"):
        library.names("cape")


@pytest.mark.parametrize("name", ["male_casualsuit01", "female_casualsuit01", "male_worksuit01"])
def test_outfits_stay_on_the_body_for_every_shape_and_frame(bodies, trees, library, name):
    outfit = library.load("outfit", name)
    for (shape, motion), g in bodies.items():
        points = outfit.fit(g.vertices)
        assert points.shape == (len(g.vertices), outfit.vertex_count, 3) and points.dtype == np.float32
        d = nearest_body_distance(trees[shape, motion], points)
        assert np.percentile(d, 50) < 0.025, (shape, motion)
        assert np.percentile(d, 99) < 0.06, (shape, motion)
        assert d.max() < 0.10, (shape, motion)


def test_shoes_stay_on_the_feet(bodies, trees, library):
    shoes = library.load("shoes", "shoes01")
    feet = {PART_NAMES.index("left_foot"), PART_NAMES.index("right_foot")}
    for key, g in bodies.items():
        assert set(np.unique(shoes.part_labels(g.part_labels))) <= feet | {PART_NAMES.index("left_lower_leg"),
                                                                          PART_NAMES.index("right_lower_leg")}
        assert nearest_body_distance(trees[key], shoes.fit(g.vertices)).max() < 0.06


def test_hair_sits_on_the_head(bodies, trees, library):
    for name in library.names("hair"):
        hair = library.load("hair", name)
        parts = hair.part_labels(bodies["thin", MOTIONS[0]].part_labels)
        assert set(np.unique(parts)) <= {HEAD, PART_NAMES.index("torso")}, name  # long hair also rests on the back
        on_head = parts == HEAD
        assert on_head.mean() > (0.2 if name.startswith(("long", "braid", "ponytail")) else 0.99), name
        for key, g in bodies.items():
            points = hair.fit(g.vertices)
            head = g.vertices[:, g.part_labels == HEAD]
            top = head[:, :, 2].max(axis=1)
            # the crown of the hair is just above the crown of the head, and the hair is around the head
            assert np.all(np.abs(points[:, :, 2].max(axis=1) - top - 0.02) < 0.04), name
            d = nearest_body_distance(trees[key], points)
            near = 0.05 if name.startswith(("short", "afro")) else 0.12  # long, braided and bob styles hang freer
            assert np.percentile(d[:, on_head], 99) < near and d.max() < 0.15, name


def test_eyebrows_and_eyelashes_follow_the_face(bodies, trees, library):
    for kind in ("eyebrows", "eyelashes"):
        for name in library.names(kind):
            asset = library.load(kind, name)
            for key, g in bodies.items():
                assert (asset.part_labels(g.part_labels) == HEAD).all()
                assert nearest_body_distance(trees[key], asset.fit(g.vertices)).max() < 0.02, name


def test_hidden_faces_are_under_the_garment(bodies, library):
    for kind, name, share in (("outfit", "male_casualsuit02", 0.93), ("outfit", "female_sportsuit01", 0.93),
                              ("shoes", "shoes01", 0.85)):
        asset = library.load(kind, name)
        g = bodies["heavy", MOTIONS[1]]
        hidden = hidden_faces([asset], g.faces)
        assert 0 < hidden.sum() < len(g.faces) // 2
        hidden_vertices = np.unique(g.faces[hidden])
        for frame in (0, len(g.vertices) - 1):
            covered, poking = coverage(g.vertices[frame], g.faces, asset.fit(g.vertices[frame]), asset.faces,
                                       g.part_labels, asset.part_labels(g.part_labels)[asset.faces[:, 0]])
            assert (covered | poking)[hidden_vertices].mean() > share, name


def test_hair_and_hats_hide_no_skin(bodies, library):
    g = bodies["thin", MOTIONS[0]]
    assets = [library.load("hair", "long01"), library.load("hat", "fedora"), library.load("eyelashes", "eyelashes01")]
    assert not hidden_faces(assets, g.faces).any()
    assert len(assets[0].covered_vertices) > 500  # the scalp under the hair, e.g. to tint it


def test_little_skin_pokes_through(bodies, library):
    assets = [library.load("outfit", "male_casualsuit04"), library.load("shoes", "shoes02")]
    for g in bodies.values():
        for frame in (0, len(g.vertices) // 2):
            result = poke_through(g.vertices[frame], g.faces, g.part_labels, assets)
            assert result["visible_poking_anywhere"] <= 25


def test_fitting_is_deterministic_and_frame_independent(bodies, library):
    g = bodies["short", MOTIONS[0]]
    outfit = library.load("outfit", "female_elegantsuit01")
    first, second = fit(outfit, g.vertices), fit(outfit, g.vertices.copy())
    assert np.array_equal(first, second)
    assert np.array_equal(first[3], fit(outfit, g.vertices[3]))
    assert np.array_equal(GarmentLibrary(library.root).load("outfit", "female_elegantsuit01").fit(g.vertices), first)
    with pytest.raises(ValueError, match="13718 vertices"):
        fit(outfit, g.vertices[:, :100])


def test_anchors_turn_and_scale_with_the_body():
    rng = np.random.default_rng(0)
    body = rng.normal(size=(40, 3))
    refs = np.array([rng.choice(40, 3, replace=False) for _ in range(25)])
    points = body[refs].mean(axis=1) + rng.normal(scale=0.3, size=(25, 3))
    binding = bind(points, refs, np.full((25, 3), 1 / 3), body)
    assert np.allclose(fit_binding(binding, body), points, atol=1e-4)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rotation = q * np.sign(np.linalg.det(q))
    moved = 1.7 * body @ rotation.T + [1.0, -2.0, 0.5]
    assert np.allclose(fit_binding(binding, moved), 1.7 * points @ rotation.T + [1.0, -2.0, 0.5], atol=1e-4)


def test_closest_points_on_triangles_match_brute_force():
    rng = np.random.default_rng(1)
    tri = rng.normal(size=(200, 3, 3))
    points = rng.normal(size=(200, 3)) * 2
    bary = closest_points_on_triangles(points, tri[:, 0], tri[:, 1], tri[:, 2])
    found = np.linalg.norm(np.einsum("nk,nkd->nd", bary, tri) - points, axis=1)
    u, v = np.meshgrid(np.linspace(0, 1, 60), np.linspace(0, 1, 60))
    grid = np.stack([1 - u - v, u, v], -1).reshape(-1, 3)
    grid = grid[grid[:, 0] >= 0]
    samples = np.einsum("gk,nkd->ngd", grid, tri)
    brute = np.linalg.norm(samples - points[:, None], axis=-1).min(axis=1)
    assert np.all(found <= brute + 1e-9) and np.all(brute - found < 0.05)


def test_mhclo_reader(tmp_path):
    path = tmp_path / "x.mhclo"
    path.write_text("# comment\nname x\ntag Casual\ntag Male\nobj_file x.obj\nx_scale 1 2 2.0\nverts 0\n"
                    "material x.mhmat\n5\n1 2 3 0.5 0.25 0.25 0.1 -0.2 0.3\ndelete_verts\n4 - 6 9\n")
    m = read_mhclo(path)
    assert m.header["tag"] == ["Casual", "Male"] and m.header["material"] == ["x.mhmat"]
    assert m.refs.tolist() == [[5, 5, 5], [1, 2, 3]] and m.delete_verts.tolist() == [4, 5, 6, 9]
    base = np.arange(30, dtype=float).reshape(10, 3)
    assert np.allclose(m.points(base)[0], base[5])
    assert np.allclose(m.scales(base), [abs(base[1, 0] - base[2, 0]) / 2.0, 1, 1])


# -- bad files ---------------------------------------------------------------------------------------------

@pytest.fixture
def copied(library, tmp_path):
    root = tmp_path / "garments"
    shutil.copytree(library.root, root)
    return root


def test_a_missing_asset_file_names_it(copied):
    (copied / "hair" / "bob02.npz").unlink()
    library = GarmentLibrary(copied)
    library.load("hair", "short02")  # the others still load
    with pytest.raises(GarmentAssetError, match=r"hair/bob02\.npz: missing") as caught:
        library.load("hair", "bob02")
    assert caught.value.path == copied / "hair" / "bob02.npz"


def test_a_corrupt_asset_file_names_it(copied):
    path = copied / "outfit" / "male_casualsuit04.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(GarmentAssetError, match=r"male_casualsuit04\.npz: corrupt: checksum") as caught:
        GarmentLibrary(copied).load("outfit", "male_casualsuit04")
    assert caught.value.path == path


def replace_file(root: Path, name: str, data: bytes) -> Path:
    """Write an asset's file and record its checksum in the index, as a careless re-conversion would."""
    index = json.loads((root / "index.json").read_text())
    entry = next(a for a in index["assets"] if a["name"] == name)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    (root / entry["file"]).write_bytes(data)
    (root / "index.json").write_text(json.dumps(index))
    return root / entry["file"]


def test_inconsistent_arrays_are_corrupt_even_with_a_matching_checksum(copied, tmp_path):
    with np.load(copied / "eyebrows" / "eyebrow001.npz") as npz:
        arrays = dict(npz)
    arrays["refs"] = arrays["refs"].astype(np.int64) + 20000  # beyond anny's vertices
    replace_file(copied, "eyebrow001", write_npz(tmp_path / "bad.npz", arrays))
    with pytest.raises(GarmentAssetError, match=r"eyebrow001\.npz: corrupt: an index is out of range"):
        GarmentLibrary(copied).load("eyebrows", "eyebrow001")
    del arrays["blend"]
    replace_file(copied, "eyebrow002", write_npz(tmp_path / "bad.npz", arrays))
    with pytest.raises(GarmentAssetError, match=r"eyebrow002\.npz: corrupt: .*blend"):
        GarmentLibrary(copied).load("eyebrows", "eyebrow002")
    replace_file(copied, "eyebrow003", b"not a zip file")
    with pytest.raises(GarmentAssetError, match=r"eyebrow003\.npz: corrupt"):
        GarmentLibrary(copied).load("eyebrows", "eyebrow003")


def test_a_missing_or_corrupt_index_names_it(copied):
    (copied / "index.json").write_text("{not json")
    with pytest.raises(GarmentAssetError, match=r"index\.json: unreadable index"):
        GarmentLibrary(copied)
    (copied / "index.json").unlink()
    with pytest.raises(GarmentAssetError, match=r"index\.json: missing"):
        GarmentLibrary(copied)


# -- the conversion (needs ../shared, like the converter) --------------------------------------------------

@pytest.mark.skipif(not SOURCE.exists(), reason="the MakeHuman source assets are not here")
def test_conversion_reproduces_the_shipped_fitting_data(library):
    from synthact.human.garments.convert import AnnyTopology, asset_sources, binding_arrays, mesh_arrays
    from synthact.human.garments.makehuman import HM08_TO_WORLD

    topology = AnnyTopology.from_anny()  # also checks anny's template is hm08 in metres, Z up
    sources = {(kind, name): path for kind, name, path in asset_sources(SOURCE)}
    assert sorted(sources) == sorted((a["kind"], a["name"]) for a in library.index["assets"])
    for kind, name in (("eyelashes", "eyelashes02"), ("hair", "short04"), ("shoes", "shoes02")):
        mhclo = read_mhclo(sources[kind, name])
        obj = sources[kind, name].parent / mhclo.header["obj_file"][0]
        arrays = binding_arrays(mhclo, topology, kind) | mesh_arrays(obj, len(mhclo.refs))
        with np.load(library.root / library.entry(kind, name).file) as shipped:
            for key in ("point", "blend", "refs", "weights", "offsets", "hidden_vertices", "faces", "uv_table"):
                assert np.array_equal(arrays[key], shipped[key]), (name, key)
        # on anny's rest mesh the fit is the .mhclo formula on hm08 (helpers included), in metres, Z up
        rest = library.load(kind, name).fit(topology.rest)
        assert np.abs(rest - mhclo.points(topology.base) @ HM08_TO_WORLD.T).max() < 1e-5
