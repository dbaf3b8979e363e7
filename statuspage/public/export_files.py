"""The static export's files on disk: atomic writes, precompressed siblings, the manifest, the lock.

No ORM here: this module only knows paths and bytes. Every path comes through `target_in`, so nothing the
export writes or removes (a manifest edited by hand included) can land outside its directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".export-manifest.json"
LOCK = ".export.lock"
TEMP_PREFIX = ".export-"
# Text we write: each gets a .gz sibling (nginx `gzip_static on;` serves it as is, no CPU per request).
COMPRESSIBLE = (".html", ".json", ".rss", ".atom", ".ics", ".css", ".js", ".svg", ".txt", ".xml")
GZIP_MIN_BYTES = 256  # below this the headers cost more than compression saves
GZIP_MAX_RATIO = 0.9  # a copy that saves less than a tenth is not worth a second file
LOCK_WAIT_SECONDS = 600.0


class UnsafeExportPath(ValueError):
    """A path that would leave the export directory (or is not a plain relative file path)."""


def target_in(directory: Path, relative: str) -> Path:
    """`directory / relative`, refusing absolute paths, `..`, hidden or control-character names."""
    if not relative or relative.startswith("/") or "\\" in relative or "\x00" in relative:
        raise UnsafeExportPath(relative)
    parts = relative.split("/")
    for part in parts:
        if part in ("", ".", "..") or part.startswith(".") or any(ord(c) < 32 for c in part):
            raise UnsafeExportPath(relative)
    target = directory.joinpath(*parts)
    root = directory.resolve()
    if not target.resolve().is_relative_to(root):  # a symlinked directory pointing out
        raise UnsafeExportPath(relative)
    return target


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def gzipped(relative: str, content: bytes) -> bytes | None:
    """The precompressed copy (level 9, mtime 0: the same bytes every time), or None when not worth it."""
    if not relative.endswith(COMPRESSIBLE) or len(content) < GZIP_MIN_BYTES:
        return None
    packed = gzip.compress(content, compresslevel=9, mtime=0)
    return packed if len(packed) <= len(content) * GZIP_MAX_RATIO else None


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)  # readers see the old file or the new one, never half of one
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@dataclass
class Outcome:
    """What one export did, in paths relative to its directory (`.gz` siblings not listed)."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)
    # Seconds spent rendering each page: what an export after a change is made of.
    render_seconds: dict[str, float] = field(default_factory=dict)
    full: bool = False
    seconds: float = 0.0


def _holds(path: Path, content: bytes | None) -> bool:
    """Whether `path` holds exactly `content` (None: whether it is absent)."""
    if content is None:
        return not path.exists()
    try:
        return path.read_bytes() == content
    except FileNotFoundError:
        return False


def put(directory: Path, relative: str, content: bytes, outcome: Outcome) -> dict:
    """Write `relative` (and its .gz) unless the same bytes are there already; return its manifest entry.

    Compared with what is on disk, not with the manifest: a file deleted or edited by hand is put back.
    """
    target = target_in(directory, relative)
    packed = gzipped(relative, content)
    sibling = target.with_name(target.name + ".gz")
    entry = {"sha256": sha256(content), "gz": packed is not None}
    if _holds(target, content) and _holds(sibling, packed):
        outcome.unchanged.append(relative)  # not rewritten: its mtime (and so nginx's ETag) stays
        return entry
    _write_atomically(target, content)
    if packed is not None:
        _write_atomically(sibling, packed)
        # One Last-Modified for both representations of the file.
        stamp = target.stat().st_mtime_ns
        os.utime(sibling, ns=(stamp, stamp))
    else:
        with contextlib.suppress(FileNotFoundError):
            sibling.unlink()
    outcome.written.append(relative)
    return entry


def remove(directory: Path, relative: str, outcome: Outcome) -> None:
    """Remove `relative` and its .gz, and its directory if that leaves it empty."""
    try:
        target = target_in(directory, relative)
    except UnsafeExportPath:
        return  # a hostile entry in the manifest: never act on it
    found = False
    for path in (target, target.with_name(target.name + ".gz")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            found = True
    if found:
        outcome.removed.append(relative)
    parent = target.parent
    while parent != directory and parent.is_relative_to(directory):
        try:
            parent.rmdir()
        except OSError:
            break  # not empty
        parent = parent.parent


def read_manifest(directory: Path) -> dict:
    """Last export's manifest, or an empty one (first export, or a manifest we cannot trust: start over)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict) else {}


def write_manifest(directory: Path, manifest: dict) -> None:
    _write_atomically(directory / MANIFEST, json.dumps(manifest, sort_keys=True, indent=0).encode())


@contextlib.contextmanager
def export_lock(directory: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """One export of `directory` at a time (on this machine): a second run waits, then exports what is left."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another export of {directory} has held its lock for {wait:.0f} s"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
