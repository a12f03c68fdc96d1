"""The command line as a new user meets it: every --help works, and bad input gets one clear line with
exit code 2 and no traceback."""
import re
import subprocess
import sys

import click
import pytest
import typer
from typer.testing import CliRunner

from conftest import ROOT
from synthact.cli import app

runner = CliRunner()


def command_paths(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,)
        if isinstance(command, click.Group):
            yield from command_paths(command, prefix + (name,))


COMMANDS = sorted(command_paths(typer.main.get_command(app)))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_help_works(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "Traceback" not in result.output


def test_top_level_help_as_a_module():
    result = subprocess.run([sys.executable, "-m", "synthact", "serve", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "/batches/NAME/files/PATH" in result.stdout, result.stderr


def one_line_error(args, *expected):
    result = runner.invoke(app, [str(a) for a in args])
    progress = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")  # what a run said it was doing, before the error
    lines = [line for line in result.stderr.splitlines() if line.strip() and not progress.match(line)]
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture()
def batch_out(tmp_path):
    """OUT/<batch>/clips/ as `synthact render` leaves it (one empty clip folder is enough here)."""
    (tmp_path / "out" / "smoke" / "clips" / "abc").mkdir(parents=True)
    return tmp_path / "out"


def test_pack_points_from_the_output_folder_to_the_batch(batch_out, tmp_path):
    one_line_error(["pack", batch_out, "--out", tmp_path / "ds"], str(batch_out), "expected OUT/<batch>",
                   f"pack {batch_out}/smoke")
    assert not (tmp_path / "ds").exists()  # nothing was created


def test_pack_refuses_a_dataset_and_report_refuses_a_batch(batch_out, tmp_path):
    dataset = tmp_path / "ds"
    dataset.mkdir()
    (dataset / "dataset.json").write_text("{}")
    one_line_error(["pack", dataset, "--out", tmp_path / "ds2"], "this is a packed dataset")
    one_line_error(["report", batch_out / "smoke"], "no dataset.json", "pack it first")


@pytest.mark.parametrize("args, expected", [
    (["pack", "{tmp}/missing", "--out", "{tmp}/ds"], ["missing: not found"]),
    (["report", "{tmp}/missing"], ["missing: not found"]),
    (["preview", "{tmp}/missing", "--out", "{tmp}/x.png"], ["missing: not found"]),
    (["eval", "{tmp}/missing.pt", "--dataset", "{tmp}"], ["missing.pt: not found"]),
    (["train", "--shards", "{tmp}/missing", "--out", "{tmp}/run"], ["missing: not found"]),
    (["validate", "{tmp}/missing.yaml"], ["missing.yaml:1 file not found"]),
    (["render", "{tmp}/missing.yaml"], ["missing.yaml:1 file not found"]),
    (["render-scene", str(ROOT / "scene_configs/smoke.yaml"), "--index", "0", "--out", "{tmp}/file/clips"],
     ["cannot write clips there"]),
    (["render", str(ROOT / "scene_configs/smoke.yaml"), "--out", "{tmp}/file/out"], ["cannot write"]),
    (["render", str(ROOT / "scene_configs/smoke.yaml"), "--pack", "coco"], ["--pack must be gata or synapt"]),
    (["download", "{tmp}", "{tmp}/file/dest"], ["cannot write the download there"]),
    (["render", str(ROOT / "scene_configs/smoke.yaml"), "--out", "/sys/synthact-test"], ["cannot write"]),  # read-only
    (["validate", "{tmp}"], ["is a folder, not a YAML file"]),
    (["render", "{tmp}/deep.yaml"], ["deep.yaml:2 nested deeper than 64 levels"]),
    (["pack", "{tmp}/empty", "--out", "{tmp}/ds"], ["no clips/ folder and no clip directories"]),
    (["render", str(ROOT / "scene_configs/smoke.yaml"), "--scene-timeout", "-5"],
     ["render: Invalid value for '--scene-timeout'", "greater than or equal to 1"]),
    (["render", str(ROOT / "scene_configs/smoke.yaml"), "--out", "{tmp}/out", "--cpus-per-worker", "64"],
     ["no room for a render worker of 64 CPUs", "lower --cpus-per-worker"]),
    (["schema", "--out", "{tmp}/file/docs"], ["cannot write schemas there"]),
    (["export", "coco", "{tmp}/missing", "{tmp}/coco"], ["missing: not found"]),
    (["export", "mmaction", "{tmp}", "{tmp}/mma"], ["no dataset.json (expected a packed dataset)"]),
    (["export", "skeletons", "{tmp}", "{tmp}/file/skel"], ["no dataset.json"]),
    (["skeletons", "{tmp}/missing.yaml", "--out", "{tmp}/skel"], ["missing.yaml:1 file not found"]),
    (["skeletons", str(ROOT / "scene_configs/smoke.yaml"), "--out", "{tmp}/file/skel"], ["cannot write"]),
    (["eval", "{tmp}/file", "--dataset", "{tmp}", "--split", "train"], ["--split must be test or val"]),
    (["render", str(ROOT / "scene_configs/smoke.yaml"), "--precision", "float16"], ["--precision must be"]),
])
def test_bad_paths_get_one_line(tmp_path, args, expected):
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "deep.yaml").write_text("batch: {name: deep}\ncamera: " + "[" * 500 + "]" * 500 + "\n")
    (tmp_path / "empty").mkdir()
    one_line_error([a.format(tmp=tmp_path) for a in args], *expected)
    assert not (tmp_path / "out" / "smoke").exists()  # nothing was started


def test_bad_yaml_of_other_commands_names_file_and_line(tmp_path):
    qc = tmp_path / "qc.yaml"
    qc.write_text("dark_luma: 0.1\nbright_lumen: 0.9\n")
    (tmp_path / "raw" / "clips").mkdir(parents=True)
    result = runner.invoke(app, ["pack", str(tmp_path / "raw"), "--out", str(tmp_path / "ds"), "--qc", str(qc)])
    assert result.exit_code == 2 and f"{qc}:2 bright_lumen: unknown key 'bright_lumen'" in result.stderr
    train = tmp_path / "train.yaml"
    train.write_text("steps: 10\nbackbone: resnet\n")
    result = runner.invoke(app, ["train", str(train), "--shards", str(tmp_path)])
    assert result.exit_code == 2 and f"{train}:2 backbone: must be one of" in result.stderr


def test_the_token_comes_from_the_environment_or_a_file_never_a_flag(tmp_path, monkeypatch, capsys):
    from synthact.cli.common import read_token
    from synthact.dispatch.options import worker_environment
    assert runner.invoke(app, ["serve", "--token", "visible-in-ps"]).exit_code == 2  # no such option
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SYNTHACT_TOKEN", raising=False)
    token = read_token(None, create=True)
    written = tmp_path / ".config" / "synthact" / "service-token"
    assert written.read_text().strip() == token and len(token) >= 32
    assert written.stat().st_mode & 0o777 == 0o600
    assert token not in capsys.readouterr().err  # the path is shown, never the token
    assert read_token(None, create=True) == token  # the same one next time
    monkeypatch.setenv("SYNTHACT_TOKEN", "from-env")
    assert read_token(None) == "from-env" and "SYNTHACT_TOKEN" not in worker_environment()
    one_line_error(["download", str(tmp_path), str(tmp_path / "d"), "--token-file", str(written)],
                   "both SYNTHACT_TOKEN and a token file")


def test_pack_report_and_export_show_progress(raw, tmp_path):
    result = runner.invoke(app, ["pack", str(raw[0]), "--out", str(tmp_path / "ds")])
    assert result.exit_code == 0, result.output
    assert "qc" in result.stderr and "pack" in result.stderr and "clips/s" in result.stderr and "eta" in result.stderr
    result = runner.invoke(app, ["report", str(tmp_path / "ds"), "--sheets", "2"])
    assert result.exit_code == 0 and "report sheets" in result.stderr and "2/2" in result.stderr
    result = runner.invoke(app, ["export", "skeletons", str(tmp_path / "ds"), str(tmp_path / "skel")])
    assert result.exit_code == 0 and "skeletons" in result.stderr and "5/5" in result.stderr
    assert f"wrote {tmp_path / 'skel' / 'skeletons_2d.pkl'}" in result.stdout
