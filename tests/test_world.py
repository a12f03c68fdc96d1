"""The world layer: registries read by config, sampler and text alike; place libraries; actors placed on free
floor in rooms (with a place library fabricated here, so no Blender is needed)."""
import textwrap

import numpy as np
import pytest

from conftest import write
from support.places import fabricate_library
from synthact.config.batch import ENVIRONMENT_KINDS, GROUND_FAMILIES, SKY_TYPES, WEATHER_TYPES, EnvironmentConfig
from synthact.config.problems import InvalidFile
from synthact.scene import load_batch_config
from synthact.scene.sampler import SceneSampler
from synthact.world import environments, weather
from synthact.world.grounds import GROUNDS
from synthact.world.places import open_place_library
from synthact.world.semantics import CLASSES, classify
from synthact.world.skies import SKIES


def test_config_enumerations_are_the_registries():
    assert set(WEATHER_TYPES) == set(weather.registry()) >= {"clear", "overcast", "fog", "rain", "snow"}
    assert set(GROUND_FAMILIES) == set(GROUNDS) and set(SKY_TYPES) == set(SKIES)
    assert set(ENVIRONMENT_KINDS) == set(environments.registry()) == {"outdoor", "room"}
    default = EnvironmentConfig().weather.type
    assert sorted(default.values) == sorted(WEATHER_TYPES) and abs(sum(default.weights) - 1) < 1e-9


def test_every_kind_reads_only_options_that_exist():
    fields = set(EnvironmentConfig.model_fields)
    for kind in environments.registry().values():
        assert kind.options <= fields, kind.name


@pytest.mark.parametrize("name, cls", [
    ("ChairFactory(1826456).spawn_asset(1065016)", "chair"), ("dining-room_0/0.wall", "wall"),
    ("dining-room_0/0.floor", "floor"), ("dining-room_0/0.ceiling", "ceiling"),
    ("CeilingLightFactory(4411120).spawn_asset(7280933)", "lamp"), ("WallArtFactory(1).spawn_asset(2)", "decoration"),
    ("TableDiningFactory(2240624).spawn_asset(1970351)", "table"), ("WindowFactory(4650).spawn_asset(0)", "window"),
    ("LargePlantContainerFactory(5).spawn_asset(3)", "plant"), ("SofaFactory(2).spawn_asset(1)", "sofa"),
    ("Suzanne", "object"),
])
def test_object_names_map_to_semantic_classes(name, cls):
    assert classify(name) == cls
    assert [c.id for c in CLASSES] == list(range(len(CLASSES)))


ROOM_CONFIG = """\
    batch: {name: rooms, seed: 4, count: 40}
    camera: {framing: {min: 0.4, max: 0.7}, height_m: {min: 1.0, max: 2.0}}
    environment:
      kind: room
      places: {library: rooms}
    actors: {count: {min: 1, max: 3}}
    """


def test_rooms_put_actors_on_free_floor(tmp_path, registry, monkeypatch):
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(tmp_path))
    fabricate_library(tmp_path)
    config = load_batch_config(write(tmp_path, textwrap.dedent(ROOM_CONFIG)), registry)
    sampler = SceneSampler.create(config, registry)
    library = open_place_library("rooms")
    grid = library.floor(library.place("dining"))
    clearance = grid.clearance_m()
    specs = list(sampler.iter_specs(0, 40))
    assert [s.scene_id for s in specs] == [s.scene_id for s in SceneSampler.create(config, registry).iter_specs(0, 40)]
    for spec in specs:
        env = spec.environment
        assert env.kind == "room" and env.place.place_id == "dining" and env.weather == "clear"
        xy = np.array([a.position_xy for a in spec.actors])
        assert (grid.lookup(clearance, xy, 0.0) >= 0.3).all(), xy  # on free floor, clear of the table and walls
        assert "in a dining room" in spec.text
    assert any("beside a table" in s.text for s in specs)


def test_room_options_are_checked(tmp_path, registry, monkeypatch):
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(tmp_path))
    fabricate_library(tmp_path, "full", free=False)

    def problems(text):
        with pytest.raises(InvalidFile) as err:
            load_batch_config(write(tmp_path, textwrap.dedent(text)), registry)
        return [str(p).split(" ", 1)[1] for p in err.value.problems]

    assert problems("""\
        batch: {name: r}
        environment: {kind: room}
        """) == ["environment: environment.kind can be a room but environment.places names no place library"]
    assert problems("""\
        batch: {name: r}
        environment: {kind: room, places: {library: rooms}, ground: grass}
        """) == ["environment: ground has no effect: environment.kind is only room, which never reads it"]
    assert problems("""\
        batch: {name: r}
        environment: {kind: room, places: {library: nowhere}}
        """)[0].startswith("environment.places.library: ")
    found = problems("""\
        batch: {name: r}
        environment: {kind: room, places: {library: full}}
        """)
    assert found[0].startswith("environment.places.library: place library 'full' has no place") and \
        "no motion fits" in found[0]
    assert problems("""\
        batch: {name: r}
        environment: {prop_library: nowhere}
        """)[0].startswith("environment.prop_library: ") and "no place library 'nowhere'" in problems("""\
        batch: {name: r}
        environment: {prop_library: nowhere}
        """)[0]
    assert problems("""\
        batch: {name: r}
        environment: {prop_library: full}
        """) == ["environment.prop_library: place library 'full' has no props (make some: synthact environments "
                 "build full --generator infinigen-assets)"]
    assert problems("""\
        batch: {name: r}
        environment: {kind: room, places: {library: rooms}, prop_library: full}
        """) == ["environment: prop_library has no effect: environment.kind is only room, which never reads it"]


def test_terrain_is_flat_inside_its_radius_and_rolls_beyond():
    from synthact.world.terrain import RAMP_M, terrain_height
    xy = np.random.default_rng(0).uniform(-150, 150, (20000, 2))
    r = np.linalg.norm(xy, axis=1)
    z = terrain_height(xy, 5.0, seed=3, flat_radius_m=12.0)
    assert (z[r <= 12.0] == 0).all() and np.array_equal(z, terrain_height(xy, 5.0, 3, 12.0))
    far = z[r > 12.0 + RAMP_M]
    assert far.max() > 5.0 and far.std() > 1.0  # hills of about the asked height, not a plateau
    assert not np.array_equal(far, terrain_height(xy, 5.0, 4, 12.0)[r > 12.0 + RAMP_M])  # the seed shapes them
    assert (terrain_height(xy, 0.0, 3, 12.0) == 0).all()


def test_hills_rise_only_under_natural_grounds(tmp_path, registry):
    from synthact.config.batch import BatchConfig
    from synthact.scene.sampler import SceneSampler
    config = BatchConfig.model_validate({"batch": {"name": "t"}, "environment": {"terrain_height_m": 4.0}})
    specs = list(SceneSampler.create(config, registry).iter_specs(0, 40))
    assert {s.environment.terrain_height_m for s in specs if s.environment.ground in ("grass", "sand")} == {4.0}
    assert {s.environment.terrain_height_m for s in specs if s.environment.ground in ("asphalt", "tiles")} == {0.0}
    with pytest.raises(ValueError, match="hills rise only under natural grounds"):
        BatchConfig.model_validate({"batch": {"name": "t"},
                                    "environment": {"terrain_height_m": 4.0, "ground": ["asphalt", "tiles"]}})
