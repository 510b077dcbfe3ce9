"""Hyperscan databases compiled once per machine, not once per process.

Compiling a few hundred patterns takes Hyperscan a few hundred milliseconds: a filter that
classifies one message per run would pay it every time, and a --jobs run once per worker.
As rspamd does with its hs_cache, the serialised database is kept in a cache directory,
under a name derived from everything that shapes it (Hyperscan's version, the machine,
the mode, every expression with its id and flags), and loaded again in about a
millisecond. Hyperscan checks on loading that a database suits this CPU.

The directory: $HRDP_CACHE_DIR, else $XDG_CACHE_HOME/hrdp, else ~/.cache/hrdp.
HRDP_CACHE_DIR=off turns the cache off. A directory that cannot be written, or a file that
does not load (truncated, from another CPU), only means compiling: never an error. Files
are written whole or not at all (a temporary file renamed into place), so processes that
start together may all compile, but none reads half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import tempfile
from collections.abc import Sequence
from pathlib import Path

import hyperscan

SUFFIX = ".hsdb"


def cache_dir() -> Path | None:
    """Where databases are kept, or None when the cache is off."""
    value = os.environ.get("HRDP_CACHE_DIR")
    if value == "off":
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hrdp"


def compile_database(
    expressions: Sequence[bytes],
    ids: Sequence[int],
    flags: Sequence[int],
    mode: int = hyperscan.HS_MODE_BLOCK,
) -> hyperscan.Database:
    """``Database(mode).compile(expressions, ids, flags)``, from the cache when it is there.

    Raises hyperscan.error when the expressions do not compile, as compile() does.
    """
    folder = cache_dir()
    path = None if folder is None else folder / (_key(expressions, ids, flags, mode) + SUFFIX)
    if path is not None:
        loaded = _load(path, mode)
        if loaded is not None:
            return loaded
    database = hyperscan.Database(mode=mode)
    database.compile(expressions=list(expressions), ids=list(ids),
                     elements=len(expressions), flags=list(flags))
    if path is not None:
        _store(path, hyperscan.dumpb(database))
    return database


def _key(expressions: Sequence[bytes], ids: Sequence[int], flags: Sequence[int],
         mode: int) -> str:
    digest = hashlib.sha256()
    version = getattr(hyperscan, "__version__", "")
    head = f"{version}\0{platform.machine()}\0{mode}\0{len(expressions)}\0"
    digest.update(head.encode())
    for expression, ident, flag in zip(expressions, ids, flags, strict=True):
        digest.update(b"%d\0%d\0%d\0" % (ident, flag, len(expression)))
        digest.update(expression)
    return digest.hexdigest()[:32]


def _load(path: Path, mode: int) -> hyperscan.Database | None:
    try:
        database = hyperscan.loadb(path.read_bytes(), mode)
        database.scratch = hyperscan.Scratch(database)  # compile() makes one; loadb() not
    except (OSError, hyperscan.error):
        return None
    return database


def _store(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SUFFIX)
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
