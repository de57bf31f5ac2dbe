"""A passphrase-encrypted, authenticated, streamed container: how a backup leaves the workspace.

Why this shape (security requirements MP-01, SC-02, SC-04):

* **Every byte is encrypted** (MP-01: media leaving the controlled area are encrypted). Nothing of the
  payload is readable without the passphrase; the header holds only the format and the KDF's salt and
  costs.
* **Key from a passphrase with a memory-hard KDF**: argon2id (RFC 9106's second recommended setting, 64 MiB,
  three passes, four lanes), so guessing passphrases on stolen media costs memory as well as time. The
  costs are written in the header, so a later version can raise them and still read old containers;
  they are read before the header's MAC can be checked, so they are bounded (64 MiB..1 GiB, at most 10
  passes and 16 lanes) and a forged header cannot make a reader spend gigabytes or minutes. The
  passphrase is NFC-normalised before it is stretched.
  Two keys are derived from the argon2id output with HKDF: one for AES-256-GCM, one for the header's MAC.
* **Streamed in chunks** (1 MiB of plaintext each), because a backup holds evidence that may be larger than
  memory. Each chunk is sealed with AES-256-GCM under a nonce made of a random per-file prefix, the chunk's
  number and a last-chunk flag, with the header's digest as associated data (the STREAM construction of
  Hoang, Reyhanitabar, Rogaway and Vizár). So an edited byte, a reordered, dropped or repeated chunk, a
  truncation after any chunk, bytes appended after the end, or a header swapped from another container,
  each fails to authenticate and is refused, naming where.
* **The header is MACed** (HMAC-SHA256 under the derived key), so a wrong passphrase is told apart from a
  damaged body: the first fails at the header, the second at a chunk.

This module knows nothing of workspaces: it turns a byte stream into a sealed file and back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import struct
import unicodedata
from typing import Any, BinaryIO

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from palermo.errors import InputError, IntegrityError

MAGIC = b"PALERMO-SEALED\x00\x01"  # 16 bytes: what the file is, and the layout version
CHUNK_BYTES = 1024 * 1024
NONCE_PREFIX_BYTES = 7  # + 4-byte chunk number + 1-byte last flag = the 12-byte GCM nonce
TAG_BYTES = 16
MAX_HEADER_BYTES = 64 * 1024
LAST = 0x80000000  # high bit of a chunk's length word: this is the last chunk (also bound in the nonce)
#: argon2id costs (RFC 9106 §4, second recommended option); written to each header.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_PARALLELISM = 4
#: Bounds a header's costs must respect before any memory or time is spent on them. The costs are read
#: before the header's MAC can be checked (the MAC key comes out of the KDF), so anyone can forge them
#: without the passphrase: the bounds are what a forged header can cost ``verify`` (at most 1 GiB for
#: ten passes, seconds), while still letting a later version raise the defaults several times over.
MIN_ARGON2_MEMORY_KIB = 64 * 1024
MAX_ARGON2_MEMORY_KIB = 1024 * 1024
MAX_ARGON2_TIME_COST = 10
MAX_ARGON2_PARALLELISM = 16
SALT_BYTES = (16, 64)
MIN_PASSPHRASE_CHARS = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _cost(kdf: dict[str, Any], field: str, low: int, high: int) -> int:
    """One KDF cost from a header, checked to be a whole number within ``low..high`` before it is used."""
    value = kdf.get(field)
    # bool is an int in Python, and a float or a string would be coerced: a header holds exact integers
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise IntegrityError(
            f"the container's key-derivation setting {field} = {value!r} is outside {low}..{high} "
            "(an altered or foreign header): refused before deriving any key"
        )
    return value


def _keys(passphrase: str, kdf: Any) -> tuple[bytes, bytes]:
    """The AES-256-GCM key and the header-MAC key for a passphrase and the header's KDF settings.

    The passphrase is NFC-normalised first, so the same words typed on systems that compose accents
    differently (é as one code point or as e + combining accent) open the same container.
    """
    if not isinstance(kdf, dict) or kdf.get("name") != "argon2id":
        name = kdf.get("name") if isinstance(kdf, dict) else kdf
        raise IntegrityError(f"the container uses an unknown key derivation: {name!r}")
    try:
        salt = base64.b64decode(kdf["salt"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(f"the container's key-derivation salt is unreadable ({exc})") from None
    if not SALT_BYTES[0] <= len(salt) <= SALT_BYTES[1]:
        raise IntegrityError(
            f"the container's key-derivation salt has {len(salt)} bytes, not {SALT_BYTES[0]}..{SALT_BYTES[1]}"
        )
    time_cost = _cost(kdf, "time_cost", 1, MAX_ARGON2_TIME_COST)
    lanes = _cost(kdf, "parallelism", 1, MAX_ARGON2_PARALLELISM)
    memory = _cost(kdf, "memory_kib", MIN_ARGON2_MEMORY_KIB, MAX_ARGON2_MEMORY_KIB)
    try:
        seed = hash_secret_raw(
            unicodedata.normalize("NFC", passphrase).encode("utf-8"),
            salt,
            time_cost=time_cost,
            memory_cost=memory,
            parallelism=lanes,
            hash_len=32,
            type=Type.ID,
        )
    except HashingError as exc:  # e.g. the machine cannot start that many threads or give that memory
        raise IntegrityError(
            f"the container's key-derivation settings (time_cost {time_cost}, memory_kib {memory}, "
            f"parallelism {lanes}) cannot be run here: {exc}"
        ) from None

    def derive(purpose: str) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(seed)

    return derive("palermo:container:aes-256-gcm"), derive("palermo:container:header-mac")


def check_passphrase(passphrase: str, location: str) -> None:
    """Refuse a passphrase too short to protect victims' data on lost media (InputError, exit 2)."""
    length = len(unicodedata.normalize("NFC", passphrase))  # counted as the KDF will see it
    if length < MIN_PASSPHRASE_CHARS:
        raise InputError(
            f"the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters "
            f"(it has {length}): a lost backup is only as safe as its passphrase",
            location=location,
        )


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class SealingWriter(io.RawIOBase):
    """A writable stream that seals what is written into ``out`` chunk by chunk; :meth:`close` seals the
    last chunk (a container without it is refused as truncated). Does not close ``out``."""

    def __init__(self, out: BinaryIO, passphrase: str, *, chunk_bytes: int = CHUNK_BYTES) -> None:
        super().__init__()
        self._out = out
        self._chunk = chunk_bytes
        self._buffer = bytearray()
        self._index = 0
        self._prefix = os.urandom(NONCE_PREFIX_BYTES)
        kdf = {
            "name": "argon2id",
            "salt": _b64(os.urandom(16)),
            "time_cost": ARGON2_TIME_COST,
            "memory_kib": ARGON2_MEMORY_KIB,
            "parallelism": ARGON2_PARALLELISM,
        }
        header = json.dumps(
            {
                "cipher": "AES-256-GCM",
                "chunk_bytes": chunk_bytes,
                "nonce_prefix": _b64(self._prefix),
                "kdf": kdf,
            },
            sort_keys=True,
        ).encode()
        key, mac_key = _keys(passphrase, kdf)
        self._aead = AESGCM(key)
        framed = MAGIC + struct.pack(">I", len(header)) + header
        self._aad = hashlib.sha256(framed).digest()
        out.write(framed + hmac.new(mac_key, framed, hashlib.sha256).digest())

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed container")
        view = memoryview(data).cast("B")
        self._buffer += view
        while (
            len(self._buffer) > self._chunk
        ):  # keep at least one byte back: the last chunk is never empty-by-accident
            self._seal(bytes(self._buffer[: self._chunk]), last=False)
            del self._buffer[: self._chunk]
        return len(view)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), plain, self._aad)
        self._out.write(struct.pack(">I", len(sealed) | (LAST if last else 0)) + sealed)
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._out.flush()
        super().close()


class OpeningReader(io.RawIOBase):
    """A readable stream of what a container holds, authenticated chunk by chunk as it is read.

    Any failure is an :class:`IntegrityError` naming ``name`` and where (the header: wrong passphrase or
    altered header; chunk N at byte B: altered; truncated; data after the end). Plaintext of a chunk is
    handed out only once that chunk has authenticated, so a reader never acts on unauthenticated bytes;
    a reader must still read to the end (EOF) before trusting that nothing was cut off.
    """

    def __init__(self, source: BinaryIO, passphrase: str, name: str) -> None:
        super().__init__()
        self._in = source
        self._name = name
        self._pending = b""
        self._pos = 0
        self._index = 0
        self._done = False
        self._offset = 0
        magic = self._take(len(MAGIC), "its start")
        if magic != MAGIC:
            raise IntegrityError("not a Palermo sealed container (wrong magic bytes)", location=name)
        (length,) = struct.unpack(">I", self._take(4, "its header"))
        if length > MAX_HEADER_BYTES:
            raise IntegrityError("the container header is too long (altered?)", location=name)
        header = self._take(length, "its header")
        mac = self._take(32, "its header")
        try:
            meta = json.loads(header)
            self._prefix = base64.b64decode(meta["nonce_prefix"], validate=True)
            kdf = meta["kdf"]
            if meta.get("cipher") != "AES-256-GCM" or len(self._prefix) != NONCE_PREFIX_BYTES:
                raise ValueError(meta.get("cipher"))
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"the container header is unreadable ({exc})", location=name) from None
        try:
            key, mac_key = _keys(passphrase, kdf)
        except IntegrityError as exc:
            raise IntegrityError(exc.message, location=name) from None
        framed = MAGIC + struct.pack(">I", length) + header
        if not hmac.compare_digest(mac, hmac.new(mac_key, framed, hashlib.sha256).digest()):
            raise IntegrityError(
                "does not open with this passphrase (a wrong passphrase, or the header was altered)",
                location=name,
            )
        self._aead = AESGCM(key)
        self._aad = hashlib.sha256(framed).digest()
        self.header: dict[str, Any] = meta

    def _take(self, count: int, what: str) -> bytes:
        data = self._in.read(count)
        if len(data) != count:
            raise IntegrityError(f"ends early, inside {what} (truncated)", location=self._name)
        self._offset += count
        return data

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        at = self._offset
        word = self._in.read(4)
        if len(word) < 4:
            raise IntegrityError(
                f"ends early after chunk {self._index} at byte {at} (truncated: its last chunk is missing)",
                location=self._name,
            )
        self._offset += 4
        (length,) = struct.unpack(">I", word)
        last = bool(length & LAST)
        length &= ~LAST
        if length < TAG_BYTES or length > CHUNK_BYTES * 4 + TAG_BYTES:
            raise IntegrityError(
                f"chunk {self._index} at byte {at} has an impossible length (altered)", location=self._name
            )
        sealed = self._take(length, f"chunk {self._index}")
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, self._index, last), sealed, self._aad)
        except InvalidTag:
            raise IntegrityError(
                f"chunk {self._index} (bytes {at}-{self._offset - 1}) does not authenticate: the backup was "
                "altered or damaged, and is refused",
                location=self._name,
            ) from None
        self._index += 1
        if last:
            if self._in.read(1):
                raise IntegrityError(
                    f"has data after its last chunk (byte {self._offset} on): altered, refused",
                    location=self._name,
                )
            self._done = True
        return plain

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while self._pos >= len(self._pending) and not self._done:
            self._pending, self._pos = self._next_chunk(), 0
        count = min(len(view), len(self._pending) - self._pos)
        view[:count] = self._pending[self._pos : self._pos + count]
        self._pos += count
        return count

    def read_to_end(self) -> None:
        """Authenticate whatever is left (so a truncation after the payload is still caught)."""
        while not self._done:
            self._next_chunk()
        self._pending, self._pos = b"", 0
