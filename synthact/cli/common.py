"""What every command group shares: one-line errors with exit 2, config loading, path checks."""
from __future__ import annotations

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


def load_batch(config: Path, assets_dir: Optional[Path]) -> tuple[BatchConfig, AssetRegistry]:
    from synthact.scene import load_batch_config
    registry = load_registry(assets_dir)
    try:
        return load_batch_config(config, registry), registry
    except InvalidFile as exc:
        report_problems(exc)


def existing_dir(path: Path, what: str) -> Path:
    if not path.exists():
        fail(f"{path}: not found (expected {what})")
    if not path.is_dir():
        fail(f"{path}: not a folder (expected {what})")
    return path


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
