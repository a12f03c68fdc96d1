"""Service latency: GET /batches/NAME (progress from the ledger) answered by `synthact serve`'s app under
uvicorn on 127.0.0.1, 200 requests from 8 concurrent clients, first with the service idle, then while it
renders a batch with Blender (smoke scenes, 2 workers on this machine's cores).

  python benchmarks/bench_service.py [--requests 200] [--concurrency 8]
Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import ray

from synthact.config import AssetRegistry
from synthact.dispatch import DispatchOptions, Resources
from synthact.dispatch.service import create_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test support's HTTP server helper
from support.http import serve  # noqa: E402

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"
TOKEN = "bench"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def get(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=60) as res:
        res.read()
        assert res.status == 200
    return time.perf_counter() - t0


def latencies(url: str, requests: int, concurrency: int) -> np.ndarray:
    with ThreadPoolExecutor(concurrency) as pool:
        return np.array(list(pool.map(get, [url] * requests))) * 1000


def measure(label: str, url: str, requests: int, concurrency: int, note: str) -> None:
    ms = latencies(url, requests, concurrency)
    row(f"service GET /batches/NAME, {requests} requests, {concurrency} concurrent, {label}",
        f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms",
        f"{note}; load average {os.getloadavg()[0]:.1f}")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=60) as res:
        return json.loads(res.read())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    ray.init(address="local", include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    config = (ROOT / "scene_configs" / "smoke.yaml").read_text().replace("count: 4", "count: 40")
    with tempfile.TemporaryDirectory() as root:
        app = create_app(Path(root), TOKEN, AssetRegistry.load(), DispatchOptions(resources=Resources(workers=2)))
        base, stop = serve(app)
        url = f"{base}/batches/smoke"
        try:
            post = urllib.request.Request(f"{base}/batches", data=config.encode(), headers=AUTH, method="POST")
            urllib.request.urlopen(post, timeout=60).read()
            while get_json(url)["done"] < 3:  # workers started, clips coming
                time.sleep(0.5)
            done = get_json(url)["done"]
            measure("while a batch renders", url, args.requests, args.concurrency,
                    f"Blender renders smoke scenes on 2 workers meanwhile ({done} clips done at the start)")
            cancel = urllib.request.Request(f"{url}/cancel", headers=AUTH, method="POST")
            urllib.request.urlopen(cancel, timeout=60).read()
            while get_json(url)["state"] != "cancelled":
                time.sleep(0.2)
            measure("idle", url, args.requests, args.concurrency,
                    f"the same batch, cancelled ({get_json(url)['done']} clips done)")
        finally:
            stop()
    ray.shutdown()


if __name__ == "__main__":
    main()
