"""The compiled code of a bundle's generated Python, kept between loads (docs/bundle.md, "Code cache").

An engine generates Python source from the verified bytecode and compiles it: for a programme of
1,000 campaigns the compile is about half of the POS load. The source is the same at every load of the
same bundle by the same loyadsl, so its code object can be kept, as CPython keeps a module's in
``__pycache__`` and Jinja2 a template's in its bytecode cache. The key is the SHA-256 of the source
itself (with the interpreter's bytecode magic, its optimisation level and the code's file name), and
an entry holds its key: a cached entry is only ever the compilation of exactly the source the engine
generated from the bundle it verified, so a cache hit skips no check. A cache is an optimisation:
whatever goes wrong with one (a missing, damaged, misplaced, foreign or unsafe file, a read-only or
full disk, a cache object that raises) costs only the compile, never the load.

A cached code object is run, so the directory is trusted like ``__pycache__``: ``DirectoryCache`` works
on POSIX only, through a descriptor of the directory taken once per operation (so the directory that
was checked is the one used), and reads a file only when the directory and the file are this user's
and nobody else may write them, and the file is a regular file, not a link.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import marshal
import os
import re
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Protocol

# a file: MAGIC, CPython's bytecode magic (4 bytes), the entry's key (32), the SHA-256 of the code (32), the code
MAGIC = b"LOYC2\n"
_KEY_AT = len(MAGIC) + 4
_HEAD = _KEY_AT + 32 + 32
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a bundle's generated code is at most a few MB (MAX_BUNDLE_BYTES)
STALE_SECONDS = 3600  # a temporary file older than this was left by a writer that died: removed when pruning
_ENTRY = re.compile(r"[0-9a-f]{64}\.loyc")
_TEMPORARY = re.compile(r"\.[0-9a-f]{64}\.[0-9a-f]{16}\.tmp")
_SUPPORTED = os.name == "posix" and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")
_log = logging.getLogger(__name__)


class CodeCache(Protocol):
    """Where compiled code is kept: bytes by key (64 hex digits). ``load`` of an unknown key is None.
    ``compiled`` treats any exception from either method as a miss."""

    def load(self, key: str) -> bytes | None: ...

    def store(self, key: str, data: bytes) -> None: ...


def compiled(source: str, filename: str, cache: CodeCache | None) -> CodeType:
    """``compile(source, filename, "exec")``, or the same code from ``cache`` when it has it (and
    kept there when it did not). Raises what ``compile`` raises, nothing of the cache's."""
    if cache is None:
        return compile(source, filename, "exec")
    key = cache_key(source, filename)
    try:
        code = unpack(cache.load(key), key, filename)
    except Exception:  # a cache of the host's own making: whatever it raises, compile instead
        code = None
    if code is None:
        code = compile(source, filename, "exec")
        with contextlib.suppress(Exception):  # the same: a cache that cannot keep it costs the next load a compile
            cache.store(key, pack(code, key))
    return code


def cache_key(source: str, filename: str) -> str:
    """What identifies a compilation: the interpreter's bytecode format and optimisation level, the
    file name the code carries, and the source."""
    digest = hashlib.sha256(importlib.util.MAGIC_NUMBER)
    digest.update(b"%d\0%s\0" % (sys.flags.optimize, filename.encode("utf-8", "surrogatepass")))
    digest.update(source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def pack(code: CodeType, key: str) -> bytes:
    body = marshal.dumps(code)
    return MAGIC + importlib.util.MAGIC_NUMBER + bytes.fromhex(key) + hashlib.sha256(body).digest() + body


def unpack(data: bytes | None, key: str, filename: str) -> CodeType | None:
    """The code of a cache entry, or None when there is none, or it is not whole, is of another
    interpreter, is filed under another key, or is not code of ``filename``. (The digest finds a torn or
    damaged file; it is no seal against whoever may write the directory, which is why only its owner may.)"""
    if data is None or len(data) < _HEAD or not data.startswith(MAGIC):
        return None
    if data[len(MAGIC):_KEY_AT] != importlib.util.MAGIC_NUMBER or data[_KEY_AT:_KEY_AT + 32] != bytes.fromhex(key):
        return None
    body = data[_HEAD:]
    if hashlib.sha256(body).digest() != data[_KEY_AT + 32:_HEAD]:
        return None  # torn or damaged: marshal must never read it
    try:
        code = marshal.loads(body)
    except (ValueError, EOFError, TypeError):  # pragma: no cover - the digest matched what marshal wrote
        return None
    return code if type(code) is CodeType and code.co_filename == filename else None


class DirectoryCache:
    """A ``CodeCache`` in a directory of files named by key, made (mode 0700) when first written.
    Files are written whole (a temporary file, then renamed), and at most ``max_entries`` are kept:
    the least recently used go first (a hit marks its file used). POSIX only: elsewhere it keeps
    nothing (its ``usable`` is False), since it cannot tell who may write the directory."""

    def __init__(self, path: str | os.PathLike[str], max_entries: int = 32) -> None:
        self.path = Path(path)
        self.max_entries = max(3, max_entries)  # a bundle's three entries must not evict each other
        self.usable = _SUPPORTED
        self._warned = False

    def _name(self, key: str) -> str:
        if not _ENTRY.fullmatch(name := f"{key}.loyc"):
            raise ValueError(f"a cache key is 64 lowercase hex digits, got {key!r}")
        return name

    def load(self, key: str) -> bytes | None:
        name = self._name(key)
        with self._directory(create=False) as folder:
            if folder is None:
                return None
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
            except OSError:
                return None
            with os.fdopen(fd, "rb") as file:
                info = os.fstat(fd)
                if not (stat.S_ISREG(info.st_mode) and _safe(info) and info.st_size <= MAX_ENTRY_BYTES):
                    return None
                data = file.read(MAX_ENTRY_BYTES + 1)
                with contextlib.suppress(OSError):  # a read-only cache still serves what it holds
                    os.utime(fd)  # used now: the last to be pruned
            return data
        return None  # pragma: no cover - (mypy: a context manager may swallow an exception)

    def store(self, key: str, data: bytes) -> None:
        name = self._name(key)
        if len(data) > MAX_ENTRY_BYTES:
            return
        with self._directory(create=True) as folder:
            if folder is None:
                return
            temporary = f".{key}.{os.urandom(8).hex()}.tmp"
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
                try:
                    with os.fdopen(fd, "wb") as file:
                        file.write(data)
                    os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temporary, dir_fd=folder)
                    raise
                self._prune(folder)
            except OSError:
                return

    @contextlib.contextmanager
    def _directory(self, create: bool) -> Iterator[int | None]:
        """A descriptor of the directory when it is this user's and nobody else may write it (else None,
        said once in the log); ``create``: made first when missing."""
        if not self.usable:
            yield None
            return
        if create:
            with contextlib.suppress(OSError):
                self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            folder = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            yield None
            return
        try:
            if _safe(os.fstat(folder)):
                yield folder
            else:
                self._warn()
                yield None
        finally:
            os.close(folder)

    def _warn(self) -> None:
        if not self._warned:
            self._warned = True
            _log.warning("code cache %s not used: it must be a directory of this user's that nobody else may "
                         "write (chmod go-w)", self.path)

    def _prune(self, folder: int) -> None:
        """The entries past ``max_entries`` (least recently used first) and stale temporary files removed;
        files of other names are not the cache's and are left alone."""
        entries, left = [], []
        stale = time.time() - STALE_SECONDS
        with os.scandir(folder) as found:
            for entry in found:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if _ENTRY.fullmatch(entry.name):
                    entries.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
                elif _TEMPORARY.fullmatch(entry.name) and entry.stat(follow_symlinks=False).st_mtime < stale:
                    left.append(entry.name)  # left by a writer that died
        entries.sort()
        for name in [*left, *(name for _, name in entries[:max(0, len(entries) - self.max_entries)])]:
            with contextlib.suppress(OSError):  # another process pruned it first
                os.unlink(name, dir_fd=folder)


def _safe(info: os.stat_result) -> bool:
    """Whether a file (or directory) is this user's, and nobody else may write it."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
