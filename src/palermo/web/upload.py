"""Receiving an uploaded exhibit safely: type allowlist, size limit while streaming, original name kept.

The browser's upload is spooled to a private temporary folder under its original (sanitised) file
name, because the evidence store records the file name as part of the exhibit; the store then
hashes and stores the bytes content-addressed, and the temporary copy is removed. The size limit is
enforced on the bytes actually received, not on what the client claims.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from palermo.errors import InputError

ALLOWED_SUFFIXES = frozenset(
    {
        ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".xml", ".xlsx", ".xls", ".ods", ".pdf", ".txt",
        ".eml", ".msg", ".mbox", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".webp", ".heic",
        ".mp3", ".m4a", ".wav", ".ogg", ".mp4", ".mov", ".docx", ".doc", ".odt", ".rtf", ".zip", ".7z",
        ".e01", ".ufdr", ".dd", ".img", ".bin", ".html", ".htm",
    }
)  # fmt: skip
"""Formats investigators bring in (data exports, documents, media, forensic images); scripts and
executables are refused because nobody needs them as exhibits and they are what gets weaponised."""

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(filename: str | None) -> str:
    """A file name without folders or odd characters, keeping the suffix (checked separately)."""
    base = Path((filename or "").replace("\\", "/")).name.strip()
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:200]
    if not cleaned:
        raise InputError("the upload has no file name; choose a file to upload", location="file")
    return cleaned


def check_type(name: str) -> None:
    """Refuse a file type outside :data:`ALLOWED_SUFFIXES`, saying which types are accepted."""
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        shown = suffix or "(no extension)"
        raise InputError(
            f"files of type {shown} are not accepted as exhibits; accepted: "
            + ", ".join(sorted(ALLOWED_SUFFIXES)),
            location="file",
        )


@contextmanager
def spooled(upload: UploadFile, limit_bytes: int) -> Iterator[Path]:
    """Write the upload to a private temp folder, enforcing the limit; yield the file's path."""
    name = safe_name(upload.filename)
    check_type(name)
    folder = Path(tempfile.mkdtemp(prefix="palermo-upload-"))
    try:
        target = folder / name
        received = 0
        with target.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                received += len(chunk)
                if received > limit_bytes:
                    mb = limit_bytes // (1024 * 1024)
                    raise InputError(f"the file is larger than the {mb} MB upload limit", location="file")
                out.write(chunk)
        if received == 0:
            raise InputError(f"{name} is empty; an exhibit needs content", location="file")
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
