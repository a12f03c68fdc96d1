"""Downloading packed datasets (local, fsspec, HTTP from the service) and the QA report."""
import hashlib
from pathlib import Path

import pytest

from support.http import serve
from synthact.dataset.download import download
from synthact.dataset.pack import PackOptions, pack
from synthact.dataset.report import write_report
from synthact.dispatch.service import create_app


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    from synthact.dataset import download as module
    monkeypatch.setattr(module, "RETRY_PAUSE_S", 0.01)


@pytest.fixture(scope="module")
def dataset(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp("served") / "packme" / "dataset"
    pack(raw[0], out, PackOptions(layout="gata", shard_max_clips=2))
    return out


def same_shards(a, b):
    for shard in sorted((a / "shards").glob("*.tar")):
        assert hashlib.sha256(shard.read_bytes()).digest() == hashlib.sha256((b / "shards" / shard.name)
                                                                            .read_bytes()).digest()


def test_local_and_fsspec_downloads_resume_and_verify(dataset, tmp_path):
    result = download(str(dataset), tmp_path / "a")
    same_shards(dataset, tmp_path / "a")
    assert download(str(dataset), tmp_path / "a").skipped  # verified, not fetched again
    shard = sorted((dataset / "shards").glob("*.tar"))[0]
    dest = tmp_path / "b" / "shards"
    dest.mkdir(parents=True)
    (dest / (shard.name + ".part")).write_bytes(shard.read_bytes()[:1000])  # an interrupted download
    result = download(f"file://{dataset}", tmp_path / "b")
    same_shards(dataset, tmp_path / "b")
    assert f"shards/{shard.name}" in result.fetched
    (dest / shard.name).unlink()
    (dest / (shard.name + ".part")).write_bytes(b"x" * 1000)  # a corrupt partial file: resumed, fails its checksum
    healed = download(str(dataset), tmp_path / "b")  # ... and is fetched again from scratch in the same run
    assert f"shards/{shard.name}" in healed.fetched and not (dest / (shard.name + ".part")).exists()
    same_shards(dataset, tmp_path / "b")
    with pytest.raises(ValueError, match="holds a gata dataset"):
        download(str(dataset), tmp_path / "c", layout="synapt")


def test_http_download_from_the_service(dataset, registry, tmp_path):
    base, stop = serve(create_app(dataset.parent.parent, "tok", registry))
    try:
        url = f"{base}/batches/packme/files/dataset"
        shard = sorted((dataset / "shards").glob("*.tar"))[0]
        dest = tmp_path / "h" / "shards"
        dest.mkdir(parents=True)
        (dest / (shard.name + ".part")).write_bytes(shard.read_bytes()[:2048])
        download(url, tmp_path / "h", token="tok")
        same_shards(dataset, tmp_path / "h")
        with pytest.raises(Exception, match="401"):
            download(url, tmp_path / "x", token="wrong")
    finally:
        stop()


def test_report_is_a_self_contained_page(dataset, tmp_path):
    page = write_report(dataset, tmp_path / "report.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "data:image/png;base64," in page
    assert "Clips per class" in page and "QC rejections" in page and "nan_in_arrays" in page
    assert "http://" not in page and "https://" not in page  # opens without a server or network


def hostile_copy(dataset, folder, **changes):
    """A copy of the packed dataset whose dataset.json was edited by whoever serves it."""
    import json
    import shutil
    shutil.copytree(dataset, folder)
    manifest = json.loads((folder / "dataset.json").read_text())
    for key, edit in changes.items():
        manifest[key] = edit(manifest[key])
    (folder / "dataset.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize("field, bad", [
    ("shards", "../../ESCAPED.txt"), ("shards", "/tmp/ESCAPED.txt"), ("tables", "../ESCAPED.parquet"),
    ("tables", "/etc/ESCAPED"), ("tables", "index/..\\ESCAPED"), ("shards", 7), ("tables", "."), ("tables", ""),
    ("tables", "index/./x"), ("tables", "index//x"), ("shards", "a\nb"), ("tables", "index/")])
def test_names_from_the_manifest_cannot_leave_dest(dataset, tmp_path, field, bad):
    def rename_first(entries):
        return [{**entries[0], "name": bad}] + entries[1:]
    source = hostile_copy(dataset, tmp_path / "evil", **{field: rename_first})
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(ValueError, match="not a plain relative path|outside"):
        download(str(source), dest)
    assert not dest.exists()  # refused before anything was written
    assert not list(tmp_path.rglob("ESCAPED*")) and not Path("/tmp/ESCAPED.txt").exists()


def test_a_symlink_in_dest_does_not_lead_outside(dataset, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (dest / "shards").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="outside"):
        download(str(dataset), dest)
    assert not list((tmp_path / "elsewhere").iterdir())


def test_every_table_is_checksummed(dataset, tmp_path):
    import json
    listed = {t["name"] for t in json.loads((dataset / "dataset.json").read_text())["tables"]}
    on_disk = {p.relative_to(dataset).as_posix() for p in dataset.rglob("*.parquet")}
    assert listed == on_disk and "rejections.parquet" in listed
    source = tmp_path / "src"
    import shutil
    shutil.copytree(dataset, source)
    (source / "index" / "part-00000.parquet").write_bytes(b"PAR1 not a table, 31 bytes PAR1")
    with pytest.raises(IOError, match=r"index/part-00000.parquet: (checksum mismatch .* in each of 3 downloads; the "
                                      r"\.part file was removed|interrupted)"):
        download(str(source), tmp_path / "dest")
    assert not (tmp_path / "dest" / "index" / "part-00000.parquet").exists()


def test_a_dropped_connection_keeps_the_part_file_and_a_rerun_resumes(dataset, registry, tmp_path):
    import http.server
    shard = sorted((dataset / "shards").glob("*.tar"))[0]

    class Dropping(http.server.BaseHTTPRequestHandler):
        """Serves the dataset, but hangs up half-way through the first shard."""

        def do_GET(self):
            rel = self.path.split("/dataset/", 1)[1]
            body = (dataset / rel).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if rel == f"shards/{shard.name}" else body)

        def log_message(self, *args):
            pass

    url, stop = serve(Dropping)
    try:
        with pytest.raises(IOError, match=rf"shards/{shard.name}: interrupted after \d+ of \d+ bytes.*, 3 tries; rerun "
                                          r"to resume"):
            download(f"{url}/batches/packme/files/dataset", tmp_path / "d")
    finally:
        stop()
    part = tmp_path / "d" / "shards" / f"{shard.name}.part"
    assert part.stat().st_size == shard.stat().st_size // 2  # kept for the rerun
    url, stop = serve(create_app(dataset.parent.parent, "tok", registry))
    try:
        result = download(f"{url}/batches/packme/files/dataset", tmp_path / "d", token="tok")
    finally:
        stop()
    same_shards(dataset, tmp_path / "d")
    assert f"shards/{shard.name}" in result.fetched and not part.exists()


def test_a_file_longer_than_declared_is_cut_at_its_size(dataset, tmp_path):
    import json

    def small(entries):  # the shard "declared as 6 bytes"
        return [{**entries[0], "bytes": 6}] + entries[1:]
    source = hostile_copy(dataset, tmp_path / "evil", shards=small)
    first = json.loads((source / "dataset.json").read_text())["shards"][0]["name"]
    (source / "shards" / first).write_bytes(b"x" * 50_000_000)  # what it really sends
    dest = tmp_path / "d"
    with pytest.raises(IOError, match=f"shards/{first}: the source sends more than the 6 bytes"):
        download(str(source), dest)
    assert not (dest / "shards" / first).exists() and not (dest / "shards" / f"{first}.part").exists()
    assert not (dest / "dataset.json").exists()


def test_the_manifest_is_read_only_up_to_its_cap(tmp_path, monkeypatch):
    from synthact.dataset import download as module
    monkeypatch.setattr(module, "MAX_MANIFEST_BYTES", 1000)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "dataset.json").write_text('{"layout": "gata", "pad": "' + "x" * 5000 + '"}')
    with pytest.raises(IOError, match="dataset.json: larger than 1000 bytes"):
        download(str(tmp_path / "src"), tmp_path / "dest")


def test_the_token_goes_only_to_the_host_the_user_named(dataset, tmp_path):
    import http.server
    seen = {}

    def handler(name, redirect_to=None):
        class Recording(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.setdefault(name, []).append(self.headers.get("Authorization"))
                if redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", redirect_to() + self.path)
                    self.end_headers()
                    return
                rel = self.path.split("/dataset/", 1)[1]
                if not (dataset / rel).is_file():
                    self.send_error(404)
                    return
                body = (dataset / rel).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        return Recording

    other_url, stop_other = serve(handler("other"))
    other = other_url.replace("127.0.0.1", "localhost")  # another host name: another origin
    named_url, stop_named = serve(handler("named", redirect_to=lambda: other))
    try:
        download(f"{named_url}/x/dataset", tmp_path / "d", token="secret")
    finally:
        stop_named()
        stop_other()
    assert seen["named"] and set(seen["named"]) == {"Bearer secret"}
    assert seen["other"] and set(seen["other"]) == {None}  # followed, without the token
    same_shards(dataset, tmp_path / "d")


def test_the_card_and_the_report_come_along(dataset, registry, tmp_path):
    card = (dataset / "README.md").read_bytes()
    assert card.startswith(b"---\nlicense: other") and b"config_name: index" in card  # HF's front matter
    local = download(str(dataset), tmp_path / "before")  # no report yet: the card alone
    assert "README.md" in local.fetched and "report.html" not in local.fetched
    assert (tmp_path / "before" / "README.md").read_bytes() == card
    write_report(dataset)
    base, stop = serve(create_app(dataset.parent.parent, "tok", registry))
    try:
        got = download(f"{base}/batches/packme/files/dataset", tmp_path / "http", token="tok")
    finally:
        stop()
    assert {"README.md", "report.html"} <= set(got.fetched)
    assert (tmp_path / "http" / "report.html").read_bytes() == (dataset / "report.html").read_bytes()
    assert not list((tmp_path / "http").glob("*.part"))


def test_a_connection_dropped_once_is_resumed_in_the_same_run(dataset, tmp_path):
    import http.server
    shard = sorted((dataset / "shards").glob("*.tar"))[0]
    asked = []

    class DropsOnce(http.server.BaseHTTPRequestHandler):
        """Hangs up half-way through the first shard the first time; honours Range requests."""

        def do_GET(self):
            rel = self.path.split("/dataset/", 1)[1]
            if not (dataset / rel).is_file():
                self.send_error(404)
                return
            body = (dataset / rel).read_bytes()
            asked.append((rel, self.headers.get("Range")))
            start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            first = rel == f"shards/{shard.name}" and sum(r == rel for r, _ in asked) == 1
            self.wfile.write(body[start:len(body) // 2] if first else body[start:])

        def log_message(self, *args):
            pass

    url, stop = serve(DropsOnce)
    try:
        result = download(f"{url}/x/dataset", tmp_path / "d")
    finally:
        stop()
    same_shards(dataset, tmp_path / "d")
    tries = [r for r in asked if r[0] == f"shards/{shard.name}"]
    assert f"shards/{shard.name}" in result.fetched and len(tries) == 2
    assert tries[1][1] == f"bytes={shard.stat().st_size // 2}-"  # the second try resumed where the first stopped
