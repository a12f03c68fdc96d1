"""Hostile YAML (issue 29's cases): what refusing each costs, and what 8 hostile submissions cost the service.

  python benchmarks/bench_hostile.py [--requests 200]

1. Each case of tests/support/hostile.py, refused in a process of its own as `synthact validate` refuses it: the
   refusal's own time (after imports), the process's peak resident memory (VmHWM: ru_maxrss would count the
   forking parent's), and the wall time of `synthact validate` itself.
2. The service (`create_app` under uvicorn, no batch running): GET /batches latency from 8 concurrent clients
   while 8 other clients keep POSTing the hostile documents that fit its 256 KiB body limit, against idle.
Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the hostile cases and the test support's HTTP server helper
from support.hostile import CASES, write_cases  # noqa: E402
from support.http import serve  # noqa: E402
from synthact.config import AssetRegistry  # noqa: E402
from synthact.dispatch.service import MAX_BODY_BYTES, create_app  # noqa: E402

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"
TOKEN = "bench"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REFUSE = """
import json, sys, time
from synthact.config import AssetRegistry, InvalidFile
from synthact.scene.loading import load_batch_config
registry = AssetRegistry.load()
t0 = time.perf_counter()
try:
    load_batch_config(sys.argv[1], registry)
    said = "accepted"
except InvalidFile as exc:
    said = str(exc.problems[0])
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"s": time.perf_counter() - t0, "rss_mb": peak / 1024, "said": said}))
"""


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def refusals(folder: Path) -> None:
    cases = write_cases(folder)
    baseline = json.loads(subprocess.run([sys.executable, "-c", REFUSE, str(ROOT / "scene_configs" / "smoke.yaml")],
                                         capture_output=True, text=True, check=True).stdout)
    row("accepting scene_configs/smoke.yaml (for scale)", f"{baseline['s'] * 1000:.0f} ms, peak "
        f"{baseline['rss_mb']:.0f} MB", "the process's peak includes its imports")
    for name in CASES:
        path, _ = cases[name]
        got = json.loads(subprocess.run([sys.executable, "-c", REFUSE, str(path)], capture_output=True, text=True,
                                        check=True).stdout)
        t0 = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "synthact", "validate", str(path)], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        assert cli.returncode == 2, cli.stderr
        row(f"refusing {name} ({path.stat().st_size / 1e6:.2f} MB)",
            f"{got['s'] * 1000:.0f} ms, peak {got['rss_mb']:.0f} MB; `synthact validate` {wall:.1f} s wall",
            got["said"].split(" ", 1)[1][:70])


def get(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=60) as res:
        res.read()
    return (time.perf_counter() - t0) * 1000


def service(folder: Path, requests: int) -> None:
    bodies = [p.read_bytes() for name, (p, _) in write_cases(folder / "cases").items()
              if p.stat().st_size <= MAX_BODY_BYTES]
    base, stop = serve(create_app(folder / "root", TOKEN, AssetRegistry.load()))
    done = threading.Event()
    posted = []

    def attacker(i: int) -> None:
        while not done.is_set():
            request = urllib.request.Request(f"{base}/batches", data=bodies[i % len(bodies)], headers=AUTH,
                                             method="POST")
            try:
                urllib.request.urlopen(request, timeout=60).read()
            except urllib.error.HTTPError as exc:
                posted.append(exc.code)
    try:
        with ThreadPoolExecutor(8) as pool:
            idle = np.array(list(pool.map(get, [f"{base}/batches"] * requests)))
        attackers = [threading.Thread(target=attacker, args=(i,)) for i in range(8)]
        for t in attackers:
            t.start()
        time.sleep(1.0)
        with ThreadPoolExecutor(8) as pool:
            loaded = np.array(list(pool.map(get, [f"{base}/batches"] * requests)))
        done.set()
        for t in attackers:
            t.join()
    finally:
        stop()
    row(f"service GET /batches, {requests} requests from 8 clients, idle",
        f"p50 {np.percentile(idle, 50):.1f} ms, p99 {np.percentile(idle, 99):.1f} ms")
    codes = sorted(set(posted))
    row(f"the same while 8 clients POST the {len(bodies)} hostile documents that fit the body limit, nonstop",
        f"p50 {np.percentile(loaded, 50):.1f} ms, p99 {np.percentile(loaded, 99):.1f} ms",
        f"{len(posted)} POSTs answered meanwhile, all {codes} (bar: p99 < 100 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        refusals(Path(tmp) / "cases")
        service(Path(tmp), args.requests)


if __name__ == "__main__":
    main()
