"""Parquet tables with explicit Arrow schemas: an append whose clips bring values a first part lacked (HDRI
names) still reads in pyarrow, pandas and duckdb, and no column is ever of Arrow's null type."""
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support.fabricate import fabricate_batch
from synthact.config import BatchConfig
from synthact.dataset.pack import PackOptions, pack

BATCH = {"camera": {"distance_m": 3.5, "height_m": 1.4, "focal_length_mm": 35},
         "environment": {"weather": {"type": "clear"}, "props_density": 0},
         "motion": {"selection": {"policy": "balanced", "classes": ["wave_right_high", "squat_slow"]},
                    "renders_per_motion": 2},
         "render": {"resolution": {"width": 32, "height": 32}, "frames": 3}}


@pytest.fixture(scope="module")
def appended(registry, tmp_path_factory):
    """A dataset packed from a batch under a physical sky, then extended by one under HDRIs."""
    out = tmp_path_factory.mktemp("tables")
    plain = BatchConfig.model_validate({**BATCH, "batch": {"name": "plain", "seed": 1}})
    hdri = BatchConfig.model_validate({**BATCH, "batch": {"name": "lit", "seed": 2},
                                       "environment": {**BATCH["environment"], "sky": "hdri",
                                                       "hdri": {"pack": "blender_outdoor"}}})
    for config in (plain, hdri):
        pack(fabricate_batch(config, registry, out / "raw", 4), out / "dataset", PackOptions())
    return out / "dataset"


def test_no_part_has_a_null_column_and_parts_agree(appended):
    for table in ("index", "frames", "positives"):
        schemas = [pq.read_schema(p) for p in sorted((appended / table).glob("*.parquet"))]
        assert len(schemas) == 2, table
        assert schemas[0].equals(schemas[1], check_metadata=True), table
        nulls = [f.name for f in schemas[0] if pa.types.is_null(f.type)]
        assert not nulls, (table, nulls)
    assert not [f for f in pq.read_schema(appended / "rejections.parquet") if pa.types.is_null(f.type)]


def test_an_append_with_hdri_names_reads_everywhere(appended):
    column = "param.environment.hdri.pack"
    index = pq.read_table(appended / "index")
    assert index.schema.field(column).type == pa.string()
    assert set(index.column(column).to_pylist()) == {None, "blender_outdoor"}
    frame = pd.read_parquet(appended / "index")
    assert len(frame) == 8 and frame[column].notna().sum() == 4
    rows, named = duckdb.execute(f"SELECT count(*), count(\"{column}\") FROM read_parquet("
                             f"'{appended}/index/*.parquet')").fetchone()
    assert (rows, named) == (8, 4)
    seeds = duckdb.execute(f"SELECT \"param.environment.hdri.item_seed\" FROM read_parquet("
                           f"'{appended}/index/*.parquet') WHERE \"{column}\" IS NOT NULL").fetchall()
    assert len(seeds) == 4 and all(isinstance(s, int) for (s,) in seeds)


def test_keypoints_are_fixed_size_float32_with_units(appended):
    schema = pq.read_schema(next((appended / "frames").glob("*.parquet")))
    coco = schema.field("coco2d")
    assert coco.type == pa.list_(pa.list_(pa.float32(), 3), 17) and coco.metadata[b"unit"] == b"px"
    assert schema.field("coco3d_world").metadata[b"unit"] == b"m"
    assert schema.field("bbox2d").type == pa.list_(pa.float32(), 4)
    frames = pd.read_parquet(appended / "frames")
    assert len(frames) == 8 * 3 and np.stack(frames.coco2d.iloc[0]).shape == (17, 3)
    index = pq.read_schema(next((appended / "index").glob("*.parquet")))
    assert index.field("param.camera.distance_m").metadata[b"unit"] == b"m"
    assert index.field("param.camera.yaw_deg").metadata[b"unit"] == b"deg"
    assert index.field("param.environment.hdri.item_seed").type == pa.int64()
    nested = duckdb.execute(f"SELECT coco2d[1][3] FROM read_parquet('{appended}/frames/*.parquet') LIMIT 1").fetchone()
    assert nested[0] in (0.0, 1.0, 2.0)  # the first keypoint's visibility, through duckdb's list indexing


def test_the_index_says_where_the_camera_really_was(appended):
    index = pd.read_parquet(appended / "index")
    schema = pq.read_schema(next((appended / "index").glob("*.parquet")))
    assert schema.field("measured.camera_distance_m").metadata[b"unit"] == b"m"
    # placed by distance here (3.5 m to the scene's centre, 1.4 m high): the measured distance to the hips agrees
    assert np.allclose(index["measured.camera_distance_m"], 3.5, atol=0.15)
    assert np.allclose(index["measured.camera_height_m"], 1.4, atol=0.05)


def test_every_numeric_column_has_a_unit_and_positions_are_numbers(appended):
    schema = pq.read_schema(next((appended / "index").glob("*.parquet")))
    numeric = [f for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
               or pa.types.is_list(f.type)]
    assert len(numeric) > 60
    assert [f.name for f in numeric if not (f.metadata and f.metadata.get(b"unit"))] == []
    assert schema.field("param.actor0.shape.height").metadata[b"unit"] == b"1"  # a phenotype, not metres
    assert schema.field("param.render.height").metadata[b"unit"] == b"px"
    assert schema.field("param.actor0.position_xy").type == pa.list_(pa.float64())
    index = pd.read_parquet(appended / "index")
    assert all(len(xy) == 2 for xy in index["param.actor0.position_xy"])
    assert index["param.actor0.seat.position_xy"].isna().all()  # nobody sits here
    (x,) = duckdb.execute(f"SELECT max(\"param.actor0.position_xy\"[1]) FROM read_parquet('{appended}/index/*.parquet')"
                          ).fetchone()
    assert isinstance(x, float)
