import json

from pydantic import BaseModel

from conftest import ROOT
from synthact.clip.modalities import format_table
from synthact.config.batch import BatchConfig
from synthact.spec import scene_spec_json_schema

FORMAT = (ROOT / "docs" / "FORMAT.md").read_text()


def test_json_schemas_in_docs_are_current():
    # Regenerate with `make schema` after changing the models or FORMAT.md's field table.
    from synthact.config.schema import batch_config_schema
    from synthact.train.train import train_config_schema
    for name, body in (("batch_config", batch_config_schema(ROOT / "docs" / "FORMAT.md")),
                       ("train_config", train_config_schema()), ("scene_spec", scene_spec_json_schema())):
        on_disk = json.loads((ROOT / "docs" / f"{name}.schema.json").read_text())
        assert on_disk == json.loads(json.dumps(body)), f"docs/{name}.schema.json is stale: run `make schema`"


def test_format_md_shows_the_clip_registry():
    assert f"<!-- clip-format:start -->\n{format_table()}\n<!-- clip-format:end -->" in FORMAT, \
        "docs/FORMAT.md's clip-format table is stale: run `make schema`"


def test_architecture_md_names_every_package():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    packages = [p.name for p in (ROOT / "synthact").iterdir() if (p / "__init__.py").is_file()]
    missing = [name for name in packages if f"**{name}.**" not in text]
    assert len(packages) == 10 and not missing, f"docs/ARCHITECTURE.md has no paragraph for {missing}"


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel) and name not in ("top", "bottom", "shoes"):
            out += leaf_paths(ann, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def test_format_md_documents_every_config_field():
    # A row may document siblings together: `render.resolution.width` / `.height`.
    missing = [p for p in leaf_paths(BatchConfig)
               if f"`{p}`" not in FORMAT and f"`.{p.rsplit('.', 1)[-1]}`" not in FORMAT]
    assert not missing, f"docs/FORMAT.md does not mention: {missing}"


def test_readme_commands_match_makefile_and_ci():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make render" in readme and "make test" in readme
    assert "\nrender:" in makefile and "\ntest:" in makefile
    assert "make test" in ci
