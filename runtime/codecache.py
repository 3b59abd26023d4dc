"""The compiled code of a bundle's generated Python, kept between loads (docs/bundle.md, "Code cache").

An engine generates Python source from the verified bytecode and compiles it: for a programme of
1,000 campaigns the compile is about half of the POS load. The source is the same at every load of the
same bundle by the same loyadsl, so its code object can be kept, as CPython keeps a module's in
``__pycache__`` and Jinja2 a template's in its bytecode cache. The key is the SHA-256 of the source
itself (with the interpreter's bytecode magic, its optimisation level and the code's file name): a
cached entry is only ever the compilation of exactly the source the engine generated from the bundle
it verified, so a cache hit skips no check. A cache is an optimisation: whatever goes wrong with one
(a missing, damaged, foreign or unsafe file, a read-only or full disk) costs only the compile.

A cached code object is run, so the directory is trusted like ``__pycache__``: on POSIX a file is read
only when it is a regular file, not a link, owned by this user and writable by nobody else, in a
directory of the same kind.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import stat
import sys
import tempfile
from pathlib import Path
from types import CodeType
from typing import Protocol

# a file: MAGIC, CPython's bytecode magic (4 bytes), the SHA-256 of the marshalled code (32), the code
MAGIC = b"LOYC1\n"
_HEAD = len(MAGIC) + 4 + 32
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a bundle's generated code is at most a few MB (MAX_BUNDLE_BYTES)
_POSIX = os.name == "posix"


class CodeCache(Protocol):
    """Where compiled code is kept: bytes by key (64 hex digits). ``load`` of an unknown key is None;
    neither method raises for a cache that cannot be read or written."""

    def load(self, key: str) -> bytes | None: ...

    def store(self, key: str, data: bytes) -> None: ...


def compiled(source: str, filename: str, cache: CodeCache | None) -> CodeType:
    """``compile(source, filename, "exec")``, or the same code from ``cache`` when it has it (and
    kept there when it did not). Raises what ``compile`` raises."""
    if cache is None:
        return compile(source, filename, "exec")
    key = cache_key(source, filename)
    code = unpack(cache.load(key), filename)
    if code is None:
        code = compile(source, filename, "exec")
        cache.store(key, pack(code))
    return code


def cache_key(source: str, filename: str) -> str:
    """What identifies a compilation: the interpreter's bytecode format and optimisation level, the
    file name the code carries, and the source."""
    digest = hashlib.sha256(importlib.util.MAGIC_NUMBER)
    digest.update(b"%d\0%s\0" % (sys.flags.optimize, filename.encode("utf-8", "surrogatepass")))
    digest.update(source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def pack(code: CodeType) -> bytes:
    body = marshal.dumps(code)
    return MAGIC + importlib.util.MAGIC_NUMBER + hashlib.sha256(body).digest() + body


def unpack(data: bytes | None, filename: str) -> CodeType | None:
    """The code of a cache entry, or None when there is none or it is not whole, is of another
    interpreter or is not the code of ``filename``."""
    if data is None or len(data) < _HEAD or not data.startswith(MAGIC):
        return None
    if data[len(MAGIC):len(MAGIC) + 4] != importlib.util.MAGIC_NUMBER:
        return None
    body = data[_HEAD:]
    if hashlib.sha256(body).digest() != data[len(MAGIC) + 4:_HEAD]:
        return None  # torn or damaged: marshal must never read it
    try:
        code = marshal.loads(body)
    except (ValueError, EOFError, TypeError):  # pragma: no cover - the digest matched what marshal wrote
        return None
    return code if type(code) is CodeType and code.co_filename == filename else None


class DirectoryCache:
    """A ``CodeCache`` in a directory of files named by key, made (mode 0700) when first written.
    Files are written whole (a temporary file, then renamed), and at most ``max_entries`` are kept:
    the least recently used go first (a hit marks its file used)."""

    def __init__(self, path: str | os.PathLike[str], max_entries: int = 32) -> None:
        self.path = Path(path)
        self.max_entries = max(1, max_entries)

    def _file(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"a cache key is 64 lowercase hex digits, got {key!r}")
        return self.path / f"{key}.loyc"

    def load(self, key: str) -> bytes | None:
        path = self._file(key)
        try:
            if not _safe(os.stat(self.path), directory=True):
                return None
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not (stat.S_ISREG(info.st_mode) and _safe(info) and info.st_size <= MAX_ENTRY_BYTES):
                return None
            with os.fdopen(fd, "rb") as file:
                fd = -1
                data = file.read(MAX_ENTRY_BYTES + 1)
            os.utime(path)  # used now: the last to be pruned
            return data
        except OSError:
            return None
        finally:
            if fd >= 0:
                os.close(fd)

    def store(self, key: str, data: bytes) -> None:
        path = self._file(key)
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _safe(os.stat(self.path), directory=True):
                return
            fd, temporary = tempfile.mkstemp(dir=self.path, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
            self._prune()
        except OSError:
            return

    def _prune(self) -> None:
        entries = []
        for entry in os.scandir(self.path):
            if entry.name.endswith(".loyc") and entry.is_file(follow_symlinks=False):
                entries.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
        entries.sort()
        for _, name in entries[:max(0, len(entries) - self.max_entries)]:
            with contextlib.suppress(OSError):  # another process pruned it first
                os.unlink(self.path / name)


def _safe(info: os.stat_result, directory: bool = False) -> bool:
    """Whether a file (or directory) is this user's, and nobody else may write it (POSIX; elsewhere
    the directory's access rights are the operator's)."""
    if directory and not stat.S_ISDIR(info.st_mode):
        return False
    if not _POSIX:
        return True
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
