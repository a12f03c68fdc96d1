"""What every command group shares: one-line errors with exit 2, config loading, path checks."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import NoReturn, Optional

import typer

from synthact.config import AssetRegistry, BatchConfig, InvalidFile

EXIT_INVALID = 2

AssetsOption = typer.Option(None, "--assets-dir", envvar="SYNTHACT_ASSETS_DIR",
                            help="Folder of asset manifests (default: the project's assets_manifests/).")


def fail(message: str) -> NoReturn:
    """One clear line on stderr and exit 2 (bad input: nothing was changed)."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_INVALID)


def report_problems(exc: InvalidFile) -> NoReturn:
    for problem in exc.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(EXIT_INVALID)


def load_registry(assets_dir: Optional[Path]) -> AssetRegistry:
    try:
        return AssetRegistry.load(assets_dir)
    except InvalidFile as exc:
        report_problems(exc)


def config_file(given: Path, kind: str = "scenes") -> Path:
    """A config file the user named: a path, or the name of a preset that ships in the package."""
    from synthact.config.presets import config_path, not_found_hint
    path = config_path(given, kind)
    if not path.exists():
        fail(f"{given}:1 file not found ({not_found_hint(kind)})")
    return path


def load_batch(config: Path, assets_dir: Optional[Path]) -> tuple[BatchConfig, AssetRegistry]:
    from synthact.scene import load_batch_config
    registry = load_registry(assets_dir)
    try:
        return load_batch_config(config_file(config), registry), registry
    except InvalidFile as exc:
        report_problems(exc)


def existing_dir(path: Path, what: str) -> Path:
    if not path.exists():
        fail(f"{path}: not found (expected {what})")
    if not path.is_dir():
        fail(f"{path}: not a folder (expected {what})")
    return path


def output_file(path: Path, suffixes: tuple[str, ...], what: str) -> Path:
    """Check a file to write before any work: not a folder, one of `suffixes`, in a folder that can be written."""
    if path.is_dir():
        fail(f"{path}: is a folder; --out names the {what} file to write (e.g. {path / ('out' + suffixes[0])})")
    if path.suffix.lower() not in suffixes:
        fail(f"{path}: --out must end in {' or '.join(suffixes)} (the {what})")
    writable_dir(path.parent if str(path.parent) else Path("."), f"the {what}")
    return path


def storage_location(target: str, what: str, local_check: bool = True) -> str:
    """Check an output or source location before any work: a URI whose scheme fsspec knows and can load here
    (s3:// needs s3fs, gs:// gcsfs), or (with local_check) a local folder that can be written."""
    if "://" in target:
        import fsspec
        protocol = target.split("://", 1)[0].lower()
        try:
            fsspec.get_filesystem_class(protocol)
        except ValueError:
            fail(f"{target}: unknown storage scheme {protocol}:// for {what} (a local path, or a URI fsspec knows: "
                 f"file://, s3://, gs://, az://, http(s)://, ...)")
        except ImportError as exc:
            fail(f"{target}: {exc} ({protocol}:// needs its fsspec package here: pip install it)")
    elif local_check:
        writable_dir(Path(target), what)
    return target


def writable_dir(path: Path, what: str) -> Path:
    """Create the folder if needed; fail with one line when it cannot be created or written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".synthact-write-test-{id(path)}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        fail(f"{path}: cannot write {what} there ({exc.strerror or exc})")
    return path


def is_batch_folder(path: Path) -> bool:
    return (path / "clips").is_dir()


def is_dataset_folder(path: Path) -> bool:
    return (path / "dataset.json").is_file()


DEFAULT_TOKEN_FILE = Path("~/.config/synthact/service-token")


def read_token(token_file: Optional[Path], create: bool = False) -> Optional[str]:
    """The service token from SYNTHACT_TOKEN or a file (never a command-line argument: `ps` shows those).
    With `create` and neither given, the token in DEFAULT_TOKEN_FILE, written (mode 600) if it is new."""
    if os.environ.get("SYNTHACT_TOKEN"):
        if token_file is not None:
            fail("both SYNTHACT_TOKEN and a token file (--token-file or SYNTHACT_TOKEN_FILE) are set; give the token "
                 "one way")
        return os.environ["SYNTHACT_TOKEN"]
    if token_file is None and create:
        token_file = DEFAULT_TOKEN_FILE.expanduser()
        if not token_file.exists():
            token_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32) + "\n")
            typer.echo(f"no token given: wrote a new one to {token_file} (clients: export SYNTHACT_TOKEN=$(cat "
                       f"{token_file}))", err=True)
    if token_file is None:
        return None
    try:
        token = token_file.read_text().strip()
    except OSError as exc:
        fail(f"{token_file}: cannot read the token ({exc.strerror or exc})")
    if not token:
        fail(f"{token_file}: the token file is empty")
    return token
