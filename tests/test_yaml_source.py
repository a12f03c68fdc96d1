import pytest

from synthact.config.yaml_source import YamlError, load_yaml, parse_yaml


def test_duplicate_keys_are_rejected_with_both_lines():
    with pytest.raises(YamlError) as err:
        parse_yaml("batch:\n  name: a\n  seed: 1\n  name: b\n", "x.yaml")
    assert (err.value.file, err.value.line) == ("x.yaml", 4)
    assert "duplicate key 'name' (first on line 2)" in err.value.message


def test_syntax_error_names_the_line():
    with pytest.raises(YamlError) as err:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "y.yaml")
    assert err.value.file == "y.yaml" and err.value.line >= 2


def test_python_objects_are_not_constructed():
    with pytest.raises(YamlError):
        parse_yaml("a: !!python/object/apply:os.system ['echo hi']\n")


def test_locate_maps_paths_to_lines_and_skips_synthetic_components():
    doc = parse_yaml("camera:\n  distance_m:\n    min: -1\n    max: 4\n  yaw_deg: 30\nlist:\n  - a\n  - b\n")
    assert doc.locate(("camera", "distance_m", "uniform", "min")) == (3, ("camera", "distance_m", "min"))
    assert doc.locate(("camera", "yaw_deg", "fixed", "value")) == (5, ("camera", "yaw_deg"))
    assert doc.locate(("list", 1)) == (8, ("list", 1))
    assert doc.locate(("camera", "height_m"), missing=True) == (1, ("camera", "height_m"))


def alias_bomb(levels: int) -> str:
    """A few hundred bytes that expand to 9**levels values (the "billion laughs")."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_anything_expands_it():
    text = alias_bomb(9)
    assert len(text) < 600
    with pytest.raises(YamlError, match=r"more than 100000 values once aliases are expanded") as err:
        parse_yaml(text, "bomb.yaml")
    assert err.value.file == "bomb.yaml" and err.value.line == 6  # a5 is the first anchor over the limit
    assert parse_yaml(alias_bomb(3)).data["a2"][0][0] == ["x"] * 9  # ordinary aliases still work


def test_nesting_is_limited_in_text_and_through_aliases():
    with pytest.raises(YamlError, match="nested deeper than 64 levels") as err:
        parse_yaml("a: 1\nb: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")
    assert err.value.line == 2
    deep = "[" * 40 + "1" + "]" * 40
    with pytest.raises(YamlError, match="counting aliases"):
        parse_yaml(f"a: &a {deep}\nb: &b {'[' * 30}*a{']' * 30}\n")
    with pytest.raises(YamlError, match="contains it"):
        parse_yaml("a: &a [1, *a]\n")


def test_a_folder_is_not_a_yaml_file(tmp_path):
    with pytest.raises(YamlError, match="is a folder, not a YAML file"):
        load_yaml(tmp_path)
