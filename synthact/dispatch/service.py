"""`synthact serve`: a small HTTP service for teams to submit batches and fetch their outputs.

Every request needs the bearer token (the interactive API description at /docs and /openapi.json does not: it shows
the endpoints, never a batch). YAML is checked in a process of its own, with its size, values, aliases and nesting
capped as it is read (config/yaml_source.py) and a time budget that ends that process, and validated like `synthact
validate` (problems come back with field paths and line numbers). Work is limited per batch (clips, and pixels x
frames x samples per clip) and in concurrency: at most `max_running` batches render at once, the next ones wait in a
queue of `max_queued`, and any can be cancelled. One manager per batch folder: a name that a CLI run is rendering,
or that holds another config, is refused with 409. Outputs always go under the service's root, whatever the batch
says, and downloads cannot leave the root's batch folders (symbolic links to elsewhere, as batch folders or inside
them, are refused; `.tmp-` folders are not served).
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import re
import secrets
import threading
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi_swagger import resources as swagger_ui
from starlette.concurrency import run_in_threadpool

from synthact.clip.writer import TEMPORARY_PREFIX
from synthact.config import BATCH_NAME_PATTERN, AssetRegistry, BatchConfig, InvalidFile, Problem, read_document
from synthact.scene import parse_batch_config

from .executor import BatchError
from .ledger import progress
from .lock import BatchLock
from .manager import StopRequest, config_difference, run_batch
from .options import DispatchOptions
from .page import PAGE
from .storage import BatchStore

MAX_BODY_BYTES = 256 * 1024
log = logging.getLogger("synthact.serve")  # one line per batch event (uvicorn's own logger has one per request)
CHECKER_START_S = 120.0  # for the config checker's process to start and load what validation needs
PREVIEWS_SHOWN = 4  # the newest contact sheets a batch's status names
NAME = re.compile(BATCH_NAME_PATTERN)


@dataclass(frozen=True)
class ServiceLimits:
    """What one service accepts (`synthact serve --max-...`)."""

    max_clips: int = 100_000  # scenes per batch
    max_clip_work: float = 4e10  # width x height x frames x samples of one clip (1920x1080, 300 frames, 64 spp)
    max_running: int = 1  # batches rendering at once (they share the cluster)
    max_queued: int = 16  # batches waiting to render
    parse_seconds: float = 10.0  # time budget to parse and validate one config


@dataclass
class _Job:
    name: str
    config: BatchConfig
    state: str = "queued"  # queued | running | done | cancelled
    stop: StopRequest = field(default_factory=StopRequest)
    error: str = ""
    thread: threading.Thread | None = None


class _Scheduler:
    """Batches run in threads of this process, at most max_running at a time; the rest wait in order."""

    def __init__(self, root: Path, registry: AssetRegistry, options: DispatchOptions, limits: ServiceLimits):
        self.root, self.registry, self.options, self.limits = root, registry, options, limits
        self.jobs: dict[str, _Job] = {}
        self.queue: deque[str] = deque()
        self.lock = threading.Lock()

    def active(self, name: str) -> _Job | None:
        job = self.jobs.get(name)
        return job if job is not None and job.state in ("queued", "running") else None

    def submit(self, config: BatchConfig) -> _Job:
        with self.lock:
            if len(self.queue) >= self.limits.max_queued:
                raise HTTPException(429, f"{len(self.queue)} batches are waiting already; submit again later")
            job = self.jobs[config.batch.name] = _Job(config.batch.name, config)
            self.queue.append(job.name)
            log.info("batch %s: queued (%d scenes)", job.name, config.batch.count)
            self._start_next()
        return job

    def cancel(self, name: str) -> _Job:
        with self.lock:
            job = self.active(name)
            if job is None:
                raise HTTPException(409, f"batch {name!r} is not rendering or waiting")
            if job.state == "queued":
                self.queue.remove(name)
                job.state = "cancelled"
            else:
                job.stop.request("cancelled")
            log.info("batch %s: cancel asked (it was %s)", name, job.state)
        return job

    def _start_next(self) -> None:  # with self.lock held
        running = sum(1 for j in self.jobs.values() if j.state == "running")
        while self.queue and running < self.limits.max_running:
            job = self.jobs[self.queue.popleft()]
            job.state = "running"
            log.info("batch %s: rendering", job.name)
            running += 1
            job.thread = threading.Thread(target=self._run, args=(job,), daemon=True, name=f"batch-{job.name}")
            job.thread.start()

    def shutdown(self, timeout_s: float = 120.0) -> None:
        """The service is stopping (SIGTERM, Ctrl-C): queued batches are cancelled, running ones are asked to
        stop and waited for, so that each records how it ended (interrupted) and lets go of its lock."""
        with self.lock:
            for name in self.queue:
                self.jobs[name].state = "cancelled"
            self.queue.clear()
            running = [j for j in self.jobs.values() if j.state == "running"]
            for job in running:
                job.stop.request("the service stopped")
        deadline = time.monotonic() + timeout_s
        for job in running:
            if job.thread is not None:
                job.thread.join(max(deadline - time.monotonic(), 0.1))

    def _run(self, job: _Job) -> None:
        try:
            result = run_batch(job.config, self.registry, job.config.batch.count, str(self.root), self.options,
                               stop=job.stop)
            log.info("batch %s: %s%s (%d rendered, %d already complete, %d failed, %.0f s)", job.name, result.state,
                     f": {result.reason}" if result.reason else "", result.rendered, result.already_complete,
                     sum(result.failed.values()), result.seconds)
        except BatchError as exc:
            job.error = str(exc)
            log.warning("batch %s: refused: %s", job.name, job.error)
        except Exception as exc:  # noqa: BLE001 - reported on the batch's status, the service goes on
            job.error = f"{type(exc).__name__}: {str(exc)[:300]}"
            log.error("batch %s: failed: %s", job.name, job.error)
        finally:
            with self.lock:
                job.state = "cancelled" if job.stop else "done"
                self._start_next()


def _parse(text: str, registry: AssetRegistry, limits: ServiceLimits) -> BatchConfig:
    doc = read_document(text=text, name="request")
    config = parse_batch_config(doc, registry)
    problems = work_problems(config, doc, limits)
    if problems:
        raise InvalidFile(problems)
    return config


_checker_registry: AssetRegistry | None = None  # in the checker's process


def _remember(registry: AssetRegistry) -> None:
    global _checker_registry
    _checker_registry = registry


def _ready(limits: ServiceLimits) -> bool:
    """Validate a preset once, so that what validation loads on first use (libraries, vocabularies) is loaded."""
    from synthact.config.presets import config_path
    _problems_in(config_path("smoke").read_text(), limits)
    return True


def _problems_in(text: str, limits: ServiceLimits) -> list[Problem]:
    try:
        _parse(text, _checker_registry, limits)
    except InvalidFile as exc:
        return exc.problems
    return []


class _Checker:
    """Submitted configs are checked in a process of their own, one at a time: parsing holds the GIL (other
    requests would wait on it), and a check that runs past its time budget is stopped by ending that process,
    not merely no longer awaited. Only a config found valid, so small, is then parsed again here."""

    def __init__(self, registry: AssetRegistry, limits: ServiceLimits):
        self.registry, self.limits = registry, limits
        self._pool = None
        self._ready = False
        self._one_at_a_time = asyncio.Lock()

    def start(self):
        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(1, _remember, (self.registry,))
        return self._pool

    def close(self) -> None:
        pool, self._pool, self._ready = self._pool, None, False
        if pool is not None:
            pool.terminate()

    async def _call(self, fn, args: tuple, timeout_s: float):
        loop = asyncio.get_running_loop()
        answer = loop.create_future()

        def settle(outcome, failed=False):
            def set_outcome():
                if not answer.done():
                    answer.set_exception(outcome) if failed else answer.set_result(outcome)
            loop.call_soon_threadsafe(set_outcome)

        self.start().apply_async(fn, args, callback=settle, error_callback=lambda exc: settle(exc, failed=True))
        return await asyncio.wait_for(answer, timeout_s)

    async def problems(self, text: str) -> list[Problem]:
        async with self._one_at_a_time:
            if not self._ready:  # a fresh process starts, imports and loads first: not part of a check's budget
                await self._call(_ready, (self.limits,), CHECKER_START_S)
                self._ready = True
            try:
                return await self._call(_problems_in, (text, self.limits), self.limits.parse_seconds)
            except asyncio.TimeoutError:
                self.close()  # ends the check; the next one starts a fresh process
                raise


def work_problems(config: BatchConfig, doc, limits: ServiceLimits) -> list[Problem]:
    """Problems (with lines) for a batch that asks for more work than this service takes."""
    found = []
    if config.batch.count > limits.max_clips:
        found.append((("batch", "count"), f"{config.batch.count} clips is more than this service takes "
                                          f"({limits.max_clips} per batch)"))
    r = config.render
    samples = r.samples if r.engine == "cycles" else 1
    work = r.resolution.width * r.resolution.height * r.frames * samples
    if work > limits.max_clip_work:
        found.append((("render",), f"{r.resolution.width}x{r.resolution.height} pixels x {r.frames} frames x "
                                   f"{samples} samples = {work:.3g} per clip is more than this service takes "
                                   f"({limits.max_clip_work:.3g})"))
    problems = []
    for loc, message in found:
        line, path = doc.locate(loc)
        problems.append(Problem(doc.path, line, ".".join(map(str, path)), message))
    return problems


def create_app(root: Path, token: str, registry: AssetRegistry | None = None,
               options: DispatchOptions | None = None, max_body: int = MAX_BODY_BYTES,
               limits: ServiceLimits = ServiceLimits()) -> FastAPI:
    if not token:
        raise ValueError("the service needs a token: anonymous writes are not allowed")
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    registry = registry or AssetRegistry.load()
    options = replace(options or DispatchOptions(), show_progress=False)
    scheduler = _Scheduler(root, registry, options, limits)

    @asynccontextmanager
    async def lifespan(_app):
        checker.start()
        yield
        checker.close()
        await run_in_threadpool(scheduler.shutdown)

    app = FastAPI(title="SynthAct manager", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    bearer = HTTPBearer(auto_error=False, description="The service's token (`synthact serve` says where it is).")
    checker = _Checker(registry, limits)

    def authorised(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    # A person's pages, and the API description: no token needed, no batch shown (the page asks for the token
    # and keeps it in the browser's session storage). Swagger UI's files are served from the package, so /docs
    # works offline.
    app.mount("/static/swagger", StaticFiles(directory=Path(swagger_ui.__file__).parent), name="swagger")

    @app.get("/", include_in_schema=False)
    def page():
        return HTMLResponse(PAGE)

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="SynthAct manager: API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.get("/health")
    def health():
        """Liveness, for load balancers and people: no token needed, no batch named."""
        with scheduler.lock:
            states = [j.state for j in scheduler.jobs.values()]
        return {"status": "ok", "running": states.count("running"), "queued": states.count("queued")}

    def batch_dir(name: str) -> Path:
        if not NAME.match(name):
            raise HTTPException(400, f"not a batch name: {name!r}")
        folder = root / name
        if folder.is_symlink():
            raise HTTPException(400, f"batch {name!r} is a symbolic link; the service serves only folders in its root")
        if not folder.is_dir():
            raise HTTPException(404, f"no batch {name!r}")
        return folder

    def parse(text: str):
        return _parse(text, registry, limits)

    @app.post("/batches", status_code=202, dependencies=[Depends(authorised)])
    async def submit(request: Request):
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            raise HTTPException(400, "Content-Length is not a number") from None
        if declared > max_body:
            raise HTTPException(413, f"the batch config is larger than {max_body} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                raise HTTPException(413, f"the batch config is larger than {max_body} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _problems([Problem("request", 1, "", "not UTF-8 text")])
        try:
            problems = await checker.problems(text)
        except asyncio.TimeoutError:
            return _problems([Problem("request", 1, "", f"took longer than {limits.parse_seconds:g} s to validate")])
        if problems:
            return _problems(problems)
        config = await run_in_threadpool(parse, text)  # valid, so small: quick
        name = config.batch.name
        if (root / name).is_symlink():
            raise HTTPException(409, f"batch {name!r} is a symbolic link in the service's root; use another name")
        if scheduler.active(name):
            raise HTTPException(409, f"batch {name!r} is already {scheduler.active(name).state}")
        store = BatchStore(str(root / name))
        held = BatchLock(store).holder()
        if held is not None:
            raise HTTPException(409, f"batch {name!r} is being rendered by another manager ({held.describe()})")
        recorded = store.read_json("config.json") if (root / name).is_dir() else None
        where = config_difference(recorded, config) if recorded is not None else ""
        if where:
            raise HTTPException(409, f"batch {name!r} exists with another config (it differs at {where}); "
                                     f"use another name")
        (root / name).mkdir(exist_ok=True)
        job = scheduler.submit(config)
        return {"batch": name, "scenes": config.batch.count, "status": f"/batches/{name}", "state": job.state}

    @app.get("/batches", dependencies=[Depends(authorised)])
    def list_batches():
        return {"batches": sorted(p.name for p in root.iterdir()
                                  if p.is_dir() and not p.is_symlink() and NAME.match(p.name))}

    @app.get("/batches/{name}", dependencies=[Depends(authorised)])
    def batch_progress(name: str):
        """Progress from the ledger; state: queued, running (here or by a CLI manager), cancelled, or the last
        run's end (finished, interrupted, error), idle before any."""
        store = BatchStore(str(batch_dir(name)))
        counts = progress(store)
        job = scheduler.jobs.get(name)
        if job is not None and job.state != "done":
            state = job.state
        elif BatchLock(store).holder() is not None:
            state = "running"
        else:
            state = counts["state"] or "idle"
        shown = [p for p in (root / name / "previews").glob("*.png") if served(root / name, p)]
        newest = sorted(shown, key=lambda p: p.stat().st_mtime, reverse=True)[:PREVIEWS_SHOWN]
        if counts["requested"] is None and job is not None:  # queued: no run has written its summary yet
            counts["requested"] = job.config.batch.count
        return {**counts, "batch": name, "state": state, "rendering": state == "running",
                "previews": [p.relative_to(root / name).as_posix() for p in newest],
                **({"error": job.error} if job is not None and job.error else {})}

    @app.post("/batches/{name}/cancel", status_code=202, dependencies=[Depends(authorised)])
    def cancel(name: str):
        if not NAME.match(name):
            raise HTTPException(400, f"not a batch name: {name!r}")
        job = scheduler.cancel(name)
        return {"batch": name, "state": "cancelled" if job.state == "cancelled" else "cancelling"}

    def served(folder: Path, path: Path) -> bool:
        """A file the service hands out: inside the batch folder once links are resolved, not a temporary."""
        rel = path.relative_to(folder)
        return (path.is_file() and path.resolve().is_relative_to(folder)
                and not any(TEMPORARY_PREFIX in part for part in rel.parts))

    @app.get("/batches/{name}/files", dependencies=[Depends(authorised)])
    def list_files(name: str):
        folder = batch_dir(name)
        files = sorted(p for p in folder.rglob("*") if served(folder, p))
        return {"files": [{"path": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size} for p in files]}

    @app.get("/batches/{name}/files/{path:path}", dependencies=[Depends(authorised)])
    def download(name: str, path: str):
        folder = batch_dir(name)
        if "\0" in path or any(part in ("..", "") for part in path.split("/")):
            raise HTTPException(400, "not a path inside the batch")
        target = folder / path
        try:
            if not target.resolve().is_relative_to(folder):
                raise HTTPException(400, "path outside the batch")
            found = served(folder, target)
        except OSError as exc:  # a name too long for the filesystem, a loop of links
            raise HTTPException(400, f"not a file of the batch ({exc.strerror or exc})") from None
        if not found:
            raise HTTPException(404, f"no file {path[:200]!r} in batch {name!r}")
        return FileResponse(target)

    return app


def _problems(problems: list[Problem]) -> JSONResponse:
    return JSONResponse({"problems": [{"line": p.line, "path": p.path, "message": p.message, "text": str(p)}
                                      for p in problems]}, status_code=422)
