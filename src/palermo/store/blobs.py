"""Content-addressed, read-only storage of evidence originals under ``evidence/ab/cd/<sha256>``.

Why content addressing: the name *is* the SHA-256, so the same file imported twice is stored once,
and any change to a stored original is visible by re-hashing it against its own name.

Durability order (crash safety of multi-file imports): the file is streamed to a temporary name
while hashed, fsync'd, renamed into place atomically, made read-only for its owner (0400) and its
folder fsync'd *before* any database row refers to it. A crash can leave a stored blob without a
row (harmless: the next import of that file reuses it), never a row without its blob.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from palermo.settings import fsync_folder

CHUNK = 1024 * 1024


def blob_path(root: Path, sha256: str) -> Path:
    """Where the original with this digest lives."""
    return root / sha256[:2] / sha256[2:4] / sha256


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(CHUNK):
        yield chunk


def hash_file(path: Path) -> tuple[str, int]:
    """Stream a file through SHA-256 (files larger than memory are fine): ``(hex digest, size)``."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in _chunks(fh):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def store(root: Path, source: Path) -> tuple[str, int]:
    """Copy ``source`` into the store, hashing as it streams; returns ``(sha256, size)``.

    If a blob with the same digest is already stored *and still verifies*, it is kept and the copy
    discarded; a corrupted stored blob is replaced by the fresh, identical-hash copy.
    """
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="incoming-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            for chunk in _chunks(src):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = blob_path(root, sha)
        if final.exists() and hash_file(final)[0] == sha:
            tmp.unlink()
            return sha, size
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o400)  # read-only, and for the workspace owner alone
        if final.exists():
            os.chmod(final, 0o644)
        os.replace(tmp, final)
        fsync_folder(final.parent)
        return sha, size
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check(root: Path, sha256: str, size: int) -> str | None:
    """Re-hash a stored blob; None when it matches, else what is wrong."""
    path = blob_path(root, sha256)
    if not path.exists():
        return f"stored file {path.relative_to(root)} is missing"
    actual, actual_size = hash_file(path)
    if actual != sha256:
        return f"stored file hashes to {actual}, expected {sha256} (modified)"
    if actual_size != size:
        return f"stored file is {actual_size} bytes, expected {size}"
    return None
