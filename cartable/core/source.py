"""The source of the running version, for everyone who uses the service over a network
(GNU AGPL v3, section 13): an archive made from the very files this process runs.

From a source tree (the repository, or an editable install) the archive holds what the
repository holds (code, templates, static files, migrations, docs, scripts, tests, the
licence); from an installed package, the packages themselves and the licence. Nothing
else is read: no configuration, no data (``var/``), no virtual environment, no secret.
"""

from __future__ import annotations

import io
import tarfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import cartable

PACKAGE_DIR = Path(cartable.__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
# What a source tree adds to the packages, when the process runs from one.
TREE = ("pyproject.toml", "README.md", "LICENSE", "manage.py", ".ci", "docs", "scripts")
TREE += ("bench", "tests")
PACKAGES = ("cartable", "cartable_kit")
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", "var", ".venv", ".git"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".sqlite3")


def running_version() -> str:
    try:
        return version("cartable")
    except PackageNotFoundError:  # run from a tree that was never installed
        return "0+source"


def licence_text() -> str:
    for candidate in (ROOT / "LICENSE", PACKAGE_DIR / "LICENSE"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    from importlib.metadata import distribution

    for file in distribution("cartable").files or ():
        if file.name == "LICENSE":
            return file.read_text(encoding="utf-8")
    raise FileNotFoundError("LICENSE")


def _members() -> list[tuple[Path, str]]:
    """(file, name in the archive) for every file of the source, sorted."""
    prefix = f"cartable-{running_version()}"
    tops = [ROOT / name for name in PACKAGES]
    if (ROOT / "pyproject.toml").is_file():
        tops += [ROOT / name for name in TREE]
    from django.conf import settings

    data_dir = Path(settings.VAR_DIR).resolve()
    found = []
    for top in tops:
        if not top.exists():
            continue
        paths = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in paths:
            relative = path.relative_to(ROOT)
            if not path.is_file() or SKIPPED_DIRS & set(relative.parts):
                continue
            if path.resolve().is_relative_to(data_dir):  # the service's data, wherever it is
                continue
            if path.name.endswith(SKIPPED_SUFFIXES) or path.is_symlink():
                continue
            found.append((path, f"{prefix}/{relative.as_posix()}"))
    if not (ROOT / "LICENSE").is_file():
        found.append((None, f"{prefix}/LICENSE"))
    return found


@lru_cache(maxsize=1)
def archive() -> bytes:
    """The source as a .tar.gz, made once per process (the files do not change under it)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path, name in _members():
            if path is None:
                data = licence_text().encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info = tar.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return buffer.getvalue()
