"""The action vocabulary: CMU's shipped description index, labels from descriptions, label files."""
from synthact.human.motions.taxonomy import procedural_classes
from synthact.human.motions.vocabulary import (
    LABEL_NAMES,
    PROCEDURAL_FAMILIES,
    cmu_descriptions,
    labels_of,
    leans_on_something,
    read_label_file,
)


def test_descriptions_map_to_the_vocabulary():
    d = cmu_descriptions()
    assert len(d) == 2435 and d[(16, 17)] == "walk, 90-degree left turn"
    assert labels_of("walk, veer left") == ["walk", "turn"]
    assert labels_of("jumping jacks, side twists, bend over, squats") == ["jumping_jacks", "bend", "squat"]
    assert labels_of("Front_Kicking001") == ["kick"] and labels_of("JumpForward") == ["jump"]
    assert labels_of("soccer - kick ball") == ["soccer", "kick"] and labels_of("Pick box up") == ["pick_up"]
    for nothing in ("", "Unknown", "clean", "Story", "Alaskan vacation", "nursery rhyme - Cock Robin"):
        assert labels_of(d.get((0, 0), nothing)) == []
    assert d[(76, 7)] == ""  # "Unknown" in the index: no description, so `unlabelled`


def test_lying_and_leaning_are_labelled_and_a_lean_on_something_is_told_apart():
    d = cmu_descriptions()
    assert labels_of(d[(77, 16)]) == ["lie_down", "stand_up"]  # "laying down, getting up, careful ready pose"
    assert labels_of(d[(114, 2)]) == ["stand_up", "lie_down"] and labels_of("basketball layup") == ["basketball"]
    assert labels_of(d[(15, 6)]) == ["lean", "reach"] and not leans_on_something(d[(15, 6)])
    assert leans_on_something(d[(22, 18)])  # "... leans with hands on high stool"
    assert leans_on_something("lean against the wall") and not leans_on_something(d[(49, 22)])  # on bent leg
    leaning_on = [t for t, text in d.items() if leans_on_something(text)]
    assert sorted(leaning_on) == [(22, 18), (22, 19), (23, 18), (23, 19)]


def test_labels_overlap_the_procedural_taxonomy():
    names = {c.family for c in procedural_classes()} | {c.name for c in procedural_classes()}
    assert set(PROCEDURAL_FAMILIES) <= set(LABEL_NAMES)
    assert {f for families in PROCEDURAL_FAMILIES.values() for f in families} <= names
    assert len(set(LABEL_NAMES)) == len(LABEL_NAMES)


def test_label_file_rows_and_their_problems(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text('file,label,description\na.bvh,,"walk, veer left"\nb.bvh,Sit Down,\n,walk,x\n'
                    'a.bvh,run,run\nc.bvh,,walk, then run\n')
    rows, problems = read_label_file(path)
    assert rows["a.bvh"].label is None and labels_of(rows["a.bvh"].description) == ["walk", "turn"]
    assert rows["b.bvh"].label == "sit_down" and set(rows) == {"a.bvh", "b.bvh"}
    assert problems == [f"{path}:4: no file named", f"{path}:5: a.bvh is listed twice; the first row is used",
                        f"{path}:6: more columns than file, label, description (quote a description that holds "
                        f"commas); the row is left out"]


def test_format_md_documents_every_label():
    from conftest import ROOT
    text = (ROOT / "docs" / "FORMAT.md").read_text()
    assert [name for name in LABEL_NAMES if f"| `{name}` |" not in text] == []
