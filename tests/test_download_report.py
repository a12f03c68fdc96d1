"""Downloading packed datasets (local, fsspec, HTTP from the service) and the QA report."""
import hashlib
import socket
import threading
import time

import pytest
import uvicorn

from synthact.dataset.download import download
from synthact.dataset.pack import PackOptions, pack
from synthact.dataset.report import write_report
from synthact.dispatch.service import create_app


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
    (dest / (shard.name + ".part")).write_bytes(b"x" * 1000)  # a corrupt partial file
    with pytest.raises(IOError, match="checksum mismatch"):
        download(str(dataset), tmp_path / "b")
    assert not (dest / (shard.name + ".part")).exists()
    download(str(dataset), tmp_path / "b")
    same_shards(dataset, tmp_path / "b")
    with pytest.raises(ValueError, match="holds a gata dataset"):
        download(str(dataset), tmp_path / "c", layout="synapt")


def test_http_download_from_the_service(dataset, registry, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(dataset.parent.parent, "tok", registry)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        url = f"http://127.0.0.1:{port}/batches/packme/files/dataset"
        shard = sorted((dataset / "shards").glob("*.tar"))[0]
        dest = tmp_path / "h" / "shards"
        dest.mkdir(parents=True)
        (dest / (shard.name + ".part")).write_bytes(shard.read_bytes()[:2048])
        download(url, tmp_path / "h", token="tok")
        same_shards(dataset, tmp_path / "h")
        with pytest.raises(Exception, match="401"):
            download(url, tmp_path / "x", token="wrong")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_report_is_a_self_contained_page(dataset, tmp_path):
    page = write_report(dataset, tmp_path / "report.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "data:image/png;base64," in page
    assert "Clips per class" in page and "QC rejections" in page and "nan_in_arrays" in page
    assert "http://" not in page and "https://" not in page  # opens without a server or network
