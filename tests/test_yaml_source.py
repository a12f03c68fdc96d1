import pytest

from synthact.config.yaml_source import YamlError, parse_yaml


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
