"""The JSON schemas are editor-grade: every shipped preset, experiment and training config validates with the
`jsonschema` library, every field has a description, and what the schema refuses the models refuse too."""
import json

import jsonschema
import pytest
import yaml

from conftest import ROOT
from synthact.config import BatchConfig

SCHEMAS = {name: json.loads((ROOT / "docs" / f"{name}.schema.json").read_text())
           for name in ("batch_config", "train_config")}
CONFIGS = sorted([*(ROOT / "scene_configs").glob("*.yaml"), *(ROOT / "experiments").glob("*.yaml"),
                  *(ROOT / "train_configs").glob("*.yaml")])


def kind(path) -> str:
    return "batch_config" if "batch" in yaml.safe_load(path.read_text()) else "train_config"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_config_validates(config):
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind(config)])
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:200]}"
              for e in validator.iter_errors(yaml.safe_load(config.read_text()))]
    assert not errors, errors


def test_shipped_configs_cover_both_kinds():
    assert {kind(c) for c in CONFIGS} == {"batch_config", "train_config"} and len(CONFIGS) >= 10


def test_schemas_are_self_describing():
    for schema in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema" and schema["title"]
    batch = SCHEMAS["batch_config"]
    undescribed = []

    def visit(model: dict, prefix: str) -> None:
        for name, prop in model["properties"].items():
            if "description" not in prop:
                undescribed.append(prefix + name)
            refs = [o["$ref"] for o in [prop, *prop.get("anyOf", [])] if "$ref" in o]
            target = batch["$defs"][refs[0].rsplit("/", 1)[-1]] if refs else {}
            if "properties" in target and "dist" not in target["properties"]:
                visit(target, f"{prefix}{name}.")
    visit(batch, "")
    assert not undescribed, undescribed
    assert all("description" in p for p in SCHEMAS["train_config"]["properties"].values())


@pytest.mark.parametrize("text, valid", [
    ("batch: {name: a}\ncamera: {distance_m: 5}", True),  # shorthand: fixed
    ("batch: {name: a}\nenvironment: {ground: [grass, sand]}", True),  # shorthand: uniform choice
    ("batch: {name: a}\ncamera: {distance_m: {min: 3, max: 8}}", True),
    ("batch: {name: a}\ncamera: {distance_m: {dist: normal, mean: 5, std: 1, min: 1, max: 9}}", True),
    ("batch: {name: a}\nactors: {count: {dist: int_range, min: 1, max: 3}}", True),
    ("batch: {name: a}\ncamera: {distance_m: -1}", False),  # out of range
    ("batch: {name: a}\nenvironment: {ground: [lava]}", False),  # unknown category
    ("batch: {name: a}\ncamera: {distnce_m: 5}", False),  # unknown key
    ("camera: {distance_m: 5}", False),  # batch.name is required
])
def test_schema_and_models_agree(text, valid):
    data = yaml.safe_load(text)
    assert jsonschema.Draft202012Validator(SCHEMAS["batch_config"]).is_valid(data) == valid
    try:
        BatchConfig.model_validate(data)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == valid
