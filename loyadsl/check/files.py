"""The files a programme reads (``import "PATH"`` and ``KIND NAME from "PATH"``), read under containment.

A programme's roots are the folder of the file being compiled and any folder given with
``--allow-dir`` (``allow_dirs`` in the api); a programme given as text with no path has only the
roots it is given. A path is relative to the folder of the file that names it (to the first root
for text with no path), and after every symbolic link is followed it must lie inside a root
(LOY108): absolute paths, ``..`` that climbs out and links that point out are refused. What it
names must be a regular file (LOY109: not a FIFO, a device, a folder), of at most
MAX_LIST_FILE_BYTES (LOY110; all of them together at most MAX_PROGRAMME_READ_BYTES), in UTF-8
(LOY114). The file is checked with ``stat`` before it is
opened, opened without blocking and without following a last link, checked again with ``fstat``,
and read only up to the limit, so a FIFO cannot hang the compiler and ``/dev/zero`` cannot fill
its memory. On Linux the file opened is checked once more where the system says it is
(``/proc/self/fd``), so a folder swapped for a link between the check and the open is caught too.
A refusal never quotes the file's contents.

The main file is the user's own choice, so it is not contained; it is read with the same care.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loyadsl.runtime.limits import MAX_LIST_FILE_BYTES, MAX_PROGRAMME_READ_BYTES, MAX_SOURCE_CHARS

MAX_SOURCE_BYTES = 4 * MAX_SOURCE_CHARS  # a UTF-8 character takes at most four bytes
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 20


class Refused(Exception):
    """A file a programme names cannot be read: a code, a message and a hint for the diagnostic."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Roots:
    """The folders a programme may read files from, each with every link resolved."""

    dirs: tuple[Path, ...] = ()

    @classmethod
    def of(cls, main: Path | None, allow_dirs: Iterable[Path] = ()) -> Roots:
        folders = ([main.resolve().parent] if main is not None else []) + [Path(d).resolve() for d in allow_dirs]
        return cls(tuple(dict.fromkeys(folders)))

    def contain(self, path: Path) -> bool:
        return any(path == root or root in path.parents for root in self.dirs)


NO_ROOTS = Roots()


def resolve(ref: str, base: Path | None, roots: Roots) -> Path:
    """Where ``ref``, named in a file in folder ``base`` (None: text with no path), leads, with every
    link followed; Refused unless it lies inside ``roots``."""
    if "\x00" in ref:
        raise Refused("LOY108", "its path holds a NUL character")
    if Path(ref).is_absolute():
        raise Refused("LOY108", "it is an absolute path",
                      "name the file relative to the programme's file; allow another folder with `--allow-dir DIR`")
    if not roots.dirs:
        raise Refused("LOY111", "the programme was given as text, with no folder to read files from",
                      "give the folder it may read from: `--allow-dir DIR`, or `allow_dirs=` in the api")
    start = base if base is not None else roots.dirs[0]
    real = Path(os.path.realpath(start / ref))
    if not roots.contain(real):
        raise Refused("LOY108", "it lies outside the folders the programme may read",
                      "keep the file in the programme's folder, or allow its folder with `--allow-dir DIR`")
    return real


class Reader:
    """Reads the files one programme names: inside its roots, each at most MAX_LIST_FILE_BYTES, all
    of them together at most MAX_PROGRAMME_READ_BYTES (each read stops at what is left)."""

    def __init__(self, roots: Roots = NO_ROOTS) -> None:
        self.roots = roots
        self.left = MAX_PROGRAMME_READ_BYTES

    def resolve(self, ref: str, base: Path | None) -> Path:
        return resolve(ref, base, self.roots)

    def read(self, path: Path, contained: bool = True) -> bytes:
        """``path`` as ``resolve`` gave it (or, not ``contained``, a file of loyadsl's own: ``std:``)."""
        limit = min(MAX_LIST_FILE_BYTES, self.left)
        try:
            data = read_bytes(path, limit, self.roots if contained else None)
        except Refused as refused:
            if refused.code == "LOY110" and limit < MAX_LIST_FILE_BYTES:
                raise Refused("LOY110", f"with the files read before it, the programme reads more than "
                                        f"{MAX_PROGRAMME_READ_BYTES:,} bytes", "import fewer or smaller files") from None
            raise
        self.left -= len(data)
        return data


def read_bytes(path: Path, limit: int = MAX_LIST_FILE_BYTES, roots: Roots | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; Refused (LOY109, LOY110) otherwise,
    and (LOY108) when the file opened is not inside ``roots``. OSError (missing, unreadable) is the
    caller's to report."""
    _regular(os.stat(path).st_mode, path)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        _regular(info.st_mode, path)  # the file may have been swapped between stat and open
        if roots is not None:
            _opened_inside(fd, roots)
        if info.st_size > limit:
            raise _too_large(path, limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # a file that grew, or one whose size stat does not tell (/proc)
            raise _too_large(path, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode(data: bytes) -> str:
    """UTF-8 text (a leading BOM dropped); Refused (LOY114) with the line and column of the first bad byte."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise Refused("LOY114", f"it is not UTF-8 text: an invalid byte at line {line}, column {col}",
                      "save the file as UTF-8") from None


def read_source(path: Path) -> str:
    """The text of a programme file named by the user: regular, bounded, UTF-8 (Refused or OSError)."""
    return decode(read_bytes(Path(os.path.realpath(path)), MAX_SOURCE_BYTES))


def _opened_inside(fd: int, roots: Roots) -> None:
    """Where the open file really is, where the system tells (Linux: /proc/self/fd), lies inside a
    root: a folder on the way swapped for a link after ``resolve`` checked the path is caught here."""
    try:
        opened = Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:  # no /proc: the check by path in resolve() stands alone
        return
    if not roots.contain(opened):
        raise Refused("LOY108", "it lies outside the folders the programme may read",
                      "keep the file in the programme's folder, or allow its folder with `--allow-dir DIR`")


def _regular(mode: int, path: Path) -> None:
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else \
            "not a regular file"
        raise Refused("LOY109", f"it is {kind}; a programme reads only regular files",
                      "name a regular file")


def _too_large(path: Path, limit: int) -> Refused:
    return Refused("LOY110", f"it is larger than {limit:,} bytes", "split it into smaller files")
