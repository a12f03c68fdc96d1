import pytest

from synthact.config.yaml_source import MAX_BYTES, MAX_NODES, YamlError, load_yaml, parse_yaml


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
    with pytest.raises(YamlError, match=rf"more than {MAX_NODES} values once aliases are expanded") as err:
        parse_yaml(text, "bomb.yaml")
    assert err.value.file == "bomb.yaml" and err.value.line == 5  # a4 (9^5 values) is the first over the limit
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


def test_a_large_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    big = tmp_path / "comments.yaml"
    with open(big, "w") as f:
        f.write("batch: {name: x}\n")
        f.truncate(50_000_000)  # 50 MB (sparse): as the 50 MB of comments
    reads = []
    real_open = open

    def counting_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if str(file) == str(big):
            real_read = handle.read
            handle.read = lambda n=-1: reads.append(n) or real_read(n)
        return handle

    monkeypatch.setattr("builtins.open", counting_open)
    with pytest.raises(YamlError, match=f"larger than {MAX_BYTES} bytes") as err:
        load_yaml(big)
    assert err.value.file == str(big) and reads == [MAX_BYTES + 1]
    with pytest.raises(YamlError, match=f"is {MAX_BYTES + 1} bytes"):
        parse_yaml("#" * (MAX_BYTES + 1))


@pytest.mark.parametrize("text", ["a: [" + ",".join(["1"] * 125_000) + "]\n",  # the 250 KiB flat list
                                  "".join(f"k{i}: 1\n" for i in range(80_000)),  # keys
                                  "- " + "\n- ".join(["x"] * 30_000) + "\n"])
def test_too_many_values_are_refused_as_they_are_read(text, monkeypatch):
    import yaml
    built = []
    real = yaml.composer.Composer.compose_node
    monkeypatch.setattr(yaml.composer.Composer, "compose_node",
                        lambda self, parent, index: built.append(1) or real(self, parent, index))
    with pytest.raises(YamlError, match=f"more than {MAX_NODES} values"):
        parse_yaml(text)
    assert len(built) <= MAX_NODES + 1  # stopped at the limit, not after reading everything


@pytest.mark.parametrize("text,field,char", [('output: "\\0"\n', "output", "U+0000"),
                                             ('a:\n  - ok\n  - "x\\x1b[31m"\n', "a.1", "U+001B"),
                                             ('"k\\x07": 1\n', "k\x07", "U+0007")])
def test_control_characters_are_refused_with_the_field(text, field, char):
    with pytest.raises(YamlError, match="contains a control character") as err:
        parse_yaml(text, "c.yaml")
    assert err.value.message.startswith(f"{field}: ") and char in err.value.message
    assert parse_yaml('a: "tab\\there"\n').data == {"a": "tab\there"}  # tabs and newlines are text
