"""`synthact serve`: a small HTTP service for teams to submit batches and fetch their outputs.

Every request needs the bearer token. YAML is parsed with the safe loader and validated like
`synthact validate` (problems come back with field paths and line numbers). Outputs always go under the
service's root, whatever the batch says, and downloads cannot leave a batch's folder.
"""
from __future__ import annotations

import re
import secrets
import threading
from dataclasses import replace
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from synthact.config import BATCH_NAME_PATTERN, AssetRegistry, InvalidFile, Problem, read_document
from synthact.scene import parse_batch_config

from .ledger import progress
from .manager import run_batch
from .options import DispatchOptions
from .storage import BatchStore

MAX_BODY_BYTES = 256 * 1024
NAME = re.compile(BATCH_NAME_PATTERN)


def create_app(root: Path, token: str, registry: AssetRegistry | None = None,
               options: DispatchOptions | None = None, max_body: int = MAX_BODY_BYTES) -> FastAPI:
    if not token:
        raise ValueError("the service needs a token: anonymous writes are not allowed")
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    registry = registry or AssetRegistry.load()
    options = replace(options or DispatchOptions(), show_progress=False)
    running: dict[str, threading.Thread] = {}
    app = FastAPI(title="SynthAct manager", version="1")

    def authorised(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    def batch_dir(name: str) -> Path:
        if not NAME.match(name):
            raise HTTPException(400, f"not a batch name: {name!r}")
        folder = root / name
        if not folder.is_dir():
            raise HTTPException(404, f"no batch {name!r}")
        return folder

    @app.post("/batches", status_code=202, dependencies=[Depends(authorised)])
    async def submit(request: Request):
        declared = int(request.headers.get("content-length") or 0)
        if declared > max_body:
            raise HTTPException(413, f"the batch config is larger than {max_body} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                raise HTTPException(413, f"the batch config is larger than {max_body} bytes")
        try:
            config = parse_batch_config(read_document(text=body.decode("utf-8"), name="request"), registry)
        except UnicodeDecodeError:
            return _problems([Problem("request", 1, "", "not UTF-8 text")])
        except InvalidFile as exc:
            return _problems(exc.problems)
        name = config.batch.name
        if name in running and running[name].is_alive():
            raise HTTPException(409, f"batch {name!r} is already rendering")
        thread = threading.Thread(target=run_batch, args=(config, registry, config.batch.count, str(root), options),
                                  daemon=True, name=f"batch-{name}")
        running[name] = thread
        (root / name).mkdir(exist_ok=True)
        thread.start()
        return {"batch": name, "scenes": config.batch.count, "status": f"/batches/{name}"}

    @app.get("/batches", dependencies=[Depends(authorised)])
    def list_batches():
        return {"batches": sorted(p.name for p in root.iterdir() if p.is_dir() and NAME.match(p.name))}

    @app.get("/batches/{name}", dependencies=[Depends(authorised)])
    def batch_progress(name: str):
        folder = batch_dir(name)
        thread = running.get(name)
        return {"batch": name, "rendering": bool(thread and thread.is_alive()), **progress(BatchStore(str(folder)))}

    @app.get("/batches/{name}/files", dependencies=[Depends(authorised)])
    def list_files(name: str):
        folder = batch_dir(name)
        files = [p for p in folder.rglob("*") if p.is_file() and ".tmp-" not in p.as_posix()]
        return {"files": [{"path": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size}
                          for p in sorted(files)]}

    @app.get("/batches/{name}/files/{path:path}", dependencies=[Depends(authorised)])
    def download(name: str, path: str):
        folder = batch_dir(name).resolve()
        target = (folder / path).resolve()
        if folder not in target.parents:
            raise HTTPException(400, "path outside the batch")
        if not target.is_file():
            raise HTTPException(404, f"no file {path!r} in batch {name!r}")
        return FileResponse(target)

    return app


def _problems(problems: list[Problem]) -> JSONResponse:
    return JSONResponse({"problems": [{"line": p.line, "path": p.path, "message": p.message, "text": str(p)}
                                      for p in problems]}, status_code=422)
