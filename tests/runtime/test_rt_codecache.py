"""The code cache (runtime/codecache.py): a warm load compiles nothing and evaluates exactly as a cold
one; a damaged, foreign or unsafe entry is never run, only compiled again; a cache that cannot be
written costs the compile, never the load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import CodeType
from typing import Any

import pytest

from loyadsl.api import compile_file
from loyadsl.runtime import DirectoryCache, Engine, load_bundle
from loyadsl.runtime import codecache as cc

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "supermarket"
POSIX = pytest.mark.skipif(os.name != "posix",
                           reason="file ownership and modes are POSIX's")


@cache
def bundle_bytes() -> bytes:
    data, result = compile_file(EXAMPLE / "programme.loya")
    assert data is not None, result.diagnostics[:3]
    return data


def examples() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    receipts = [json.loads(line) for line in (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()]
    customers = [json.loads(line) for line in (EXAMPLE / "customers.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for r in receipts if "return_of" not in r][:60], {c["id"]: c for c in customers}


def outcomes(engine: Engine) -> list[Any]:
    """The example's sales, with their customers' states: both drivers (stateless and stateful) run."""
    receipts, customers = examples()
    return [engine.evaluate(r, customers.get(r.get("customer_id") or "")).to_dict() for r in receipts]


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file names ``codecache.compiled`` compiled (a hit compiles nothing)."""
    seen: list[str] = []
    real = compile

    def counting(source: str, filename: str, mode: str) -> CodeType:
        seen.append(filename)
        return real(source, filename, mode)

    monkeypatch.setattr(cc, "compile", counting, raising=False)
    return seen


def test_a_warm_load_compiles_nothing_and_evaluates_alike(tmp_path: Path, compiles: list[str]) -> None:
    cold = outcomes(Engine(load_bundle(bundle_bytes()), code_cache=DirectoryCache(tmp_path / "cache")))
    assert sorted(compiles) == ["<bundle " + load_bundle(bundle_bytes()).digest[:19] + ">",
                                "<loyadsl driver>", "<loyadsl stateful driver>"]
    assert len(list((tmp_path / "cache").glob("*.loyc"))) == 3
    compiles.clear()
    warm = outcomes(Engine.from_bytes(bundle_bytes(), code_cache=DirectoryCache(tmp_path / "cache")))
    assert compiles == []
    assert warm == cold == outcomes(Engine(load_bundle(bundle_bytes())))


def test_the_directory_is_private(tmp_path: Path) -> None:
    Engine(load_bundle(bundle_bytes()), code_cache=DirectoryCache(tmp_path / "a" / "cache"))
    if os.name == "posix":
        assert (tmp_path / "a" / "cache").stat().st_mode & 0o777 == 0o700
        assert {f.stat().st_mode & 0o777 for f in (tmp_path / "a" / "cache").glob("*.loyc")} == {0o600}
    assert not list((tmp_path / "a" / "cache").glob(".*.tmp"))  # written whole, then renamed


def _file(store: DirectoryCache, key: str) -> Path:
    return store.path / f"{key}.loyc"


def _entry(tmp_path: Path) -> tuple[DirectoryCache, str, str]:
    store = DirectoryCache(tmp_path)
    source, filename = "def f():\n    return 41 + 1\n", "<loyadsl test>"
    cc.compiled(source, filename, store)
    return store, source, filename


def _run(code: CodeType) -> Any:
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["f"]()


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda data: b"",
    "truncated": lambda data: data[:len(data) // 2],
    "a byte changed in the code": lambda data: data[:-3] + bytes([data[-3] ^ 1]) + data[-2:],
    "a byte changed in the key": lambda data: data[:20] + bytes([data[20] ^ 1]) + data[21:],
    "a byte changed in the digest": lambda data: data[:50] + bytes([data[50] ^ 1]) + data[51:],
    "another format": lambda data: b"LOYC1\n" + data[6:],
    "another interpreter": lambda data: data[:6] + b"\0\0\r\n" + data[10:],
    "not a cache file": lambda data: b"print('pwned')\n" * 20,
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_a_damaged_entry_is_compiled_again_and_rewritten(tmp_path: Path, compiles: list[str], damage: str) -> None:
    store, source, filename = _entry(tmp_path)
    path = _file(store, cc.cache_key(source, filename))
    path.write_bytes(DAMAGES[damage](path.read_bytes()))
    compiles.clear()
    assert _run(cc.compiled(source, filename, store)) == 42
    assert compiles == [filename]
    compiles.clear()
    assert _run(cc.compiled(source, filename, store)) == 42 and compiles == []  # whole again


@pytest.mark.parametrize("other", ["another file name", "another source", "a forged key"])
def test_an_entry_of_other_code_is_not_run(tmp_path: Path, compiles: list[str], other: str) -> None:
    """A whole entry filed under the key of one source, holding the code of another (an entry copied or
    restored by hand; the drivers' file names are the same in every bundle): refused, compiled again.
    Even with this key written into it, code of another file name is refused."""
    store, source, filename = _entry(tmp_path)
    source2, filename2 = ("def f():\n    return 0\n", filename if other == "another source" else "<elsewhere>")
    key = cc.cache_key(source, filename) if other == "a forged key" else cc.cache_key(source2, filename2)
    misplaced = cc.pack(compile(source2, filename2, "exec"), key)
    store.store(cc.cache_key(source, filename), misplaced)
    compiles.clear()
    assert _run(cc.compiled(source, filename, store)) == 42 and compiles == [filename]


def test_the_key_is_the_source_the_file_name_and_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    key = cc.cache_key("x = 1\n", "<a>")
    assert len(key) == 64 and key == cc.cache_key("x = 1\n", "<a>")
    assert key != cc.cache_key("x = 2\n", "<a>") and key != cc.cache_key("x = 1\n", "<b>")
    monkeypatch.setattr(cc.importlib.util, "MAGIC_NUMBER", b"\0\0\r\n")
    assert key != cc.cache_key("x = 1\n", "<a>")


@POSIX
@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_an_entry_others_may_write_is_never_read(tmp_path: Path, compiles: list[str], mode: int) -> None:
    store, source, filename = _entry(tmp_path)
    _file(store, cc.cache_key(source, filename)).chmod(mode)
    assert store.load(cc.cache_key(source, filename)) is None
    compiles.clear()
    assert _run(cc.compiled(source, filename, store)) == 42 and compiles == [filename]


@POSIX
def test_a_directory_others_may_write_is_neither_read_nor_written(tmp_path: Path, compiles: list[str]) -> None:
    store, source, filename = _entry(tmp_path / "cache")
    (tmp_path / "cache").chmod(0o777)
    compiles.clear()
    assert _run(cc.compiled(source, filename, store)) == 42 and compiles == [filename]
    assert store.load(cc.cache_key(source, filename)) is None
    before = sorted(p.name for p in (tmp_path / "cache").iterdir())
    cc.compiled("def f():\n    return 7\n", filename, store)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == before


@POSIX
def test_a_link_is_not_followed(tmp_path: Path, compiles: list[str]) -> None:
    store, source, filename = _entry(tmp_path / "elsewhere")
    key = cc.cache_key(source, filename)
    target = _file(store, key)
    (tmp_path / "cache").mkdir(mode=0o700)
    (tmp_path / "cache" / target.name).symlink_to(target)
    assert DirectoryCache(tmp_path / "cache").load(key) is None


def test_a_cache_that_cannot_be_written_costs_only_the_compile(tmp_path: Path, compiles: list[str]) -> None:
    blocked = tmp_path / "a file, not a directory"
    blocked.write_text("")
    engine = Engine(load_bundle(bundle_bytes()), code_cache=DirectoryCache(blocked))
    assert outcomes(engine) == outcomes(Engine(load_bundle(bundle_bytes())))
    assert DirectoryCache(blocked).load("0" * 64) is None


def test_the_least_recently_used_entries_go_first(tmp_path: Path) -> None:
    store = DirectoryCache(tmp_path, max_entries=3)
    keys = [cc.cache_key(f"x = {i}\n", "<t>") for i in range(4)]
    for i, key in enumerate(keys[:3]):
        store.store(key, cc.pack(compile(f"x = {i}\n", "<t>", "exec"), key))
        os.utime(_file(store, key), ns=(i * 10**9, i * 10**9))
    assert store.load(keys[0]) is not None  # used now: newer than keys[1]
    store.store(keys[3], cc.pack(compile("x = 3\n", "<t>", "exec"), keys[3]))
    assert [store.load(k) is not None for k in keys] == [True, False, True, True]


def test_pruning_removes_stale_temporary_files_and_nothing_of_others(tmp_path: Path) -> None:
    store = DirectoryCache(tmp_path, max_entries=3)
    stale, fresh = tmp_path / f".{'a' * 64}.{'0' * 16}.tmp", tmp_path / f".{'b' * 64}.{'1' * 16}.tmp"
    others = [tmp_path / "notes.loyc", tmp_path / ".x.tmp", tmp_path / "README"]
    for path in (stale, fresh, *others):
        path.write_bytes(b"")
        os.utime(path, (0, 0))  # the oldest files here
    os.utime(fresh)
    for i in range(4):
        cc.compiled(f"x = {i}\n", "<t>", store)
    assert not stale.exists() and fresh.exists() and all(path.exists() for path in others)
    assert len(list(tmp_path.glob("*.loyc"))) == 3 + 1  # the entries, and notes.loyc


def test_a_cache_that_raises_costs_only_the_compile(compiles: list[str]) -> None:
    class Broken:
        def load(self, key: str) -> bytes | None:
            raise RuntimeError("disk on fire")

        def store(self, key: str, data: bytes) -> None:
            raise RuntimeError("disk on fire")

    assert outcomes(Engine(load_bundle(bundle_bytes()), code_cache=Broken())) == outcomes(
        Engine(load_bundle(bundle_bytes())))
    compiles.clear()
    Engine(load_bundle(bundle_bytes()), code_cache=DirectoryCache("nul\0in a name"))  # os.open raises ValueError
    assert compiles == ["<bundle " + load_bundle(bundle_bytes()).digest[:19] + ">", "<loyadsl driver>"]


def test_a_read_only_cache_still_serves_its_entries(tmp_path: Path, compiles: list[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store, source, filename = _entry(tmp_path)

    def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(cc.os, "utime", refused)
    compiles.clear()
    assert _run(cc.compiled(source, filename, store)) == 42 and compiles == []


def test_without_posix_the_cache_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cc, "_SUPPORTED", False)
    store = DirectoryCache(tmp_path / "cache")
    assert not store.usable
    cc.compiled("x = 1\n", "<t>", store)
    assert not (tmp_path / "cache").exists() and store.load(cc.cache_key("x = 1\n", "<t>")) is None


@POSIX
def test_an_unsafe_directory_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "cache").mkdir(mode=0o700)
    (tmp_path / "cache").chmod(0o775)
    store = DirectoryCache(tmp_path / "cache")
    with caplog.at_level("WARNING", logger="loyadsl.runtime.codecache"):
        for _ in range(3):
            cc.compiled("x = 1\n", "<t>", store)
    assert [r.getMessage() for r in caplog.records] == [
        f"code cache {tmp_path / 'cache'} not used: it must be a directory of this user's that nobody else may "
        "write (chmod go-w)"]


def test_a_key_names_a_file_in_the_directory_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        DirectoryCache(tmp_path).load("../" + "0" * 61)


def test_loya_eval_keeps_the_compiled_code_between_runs(tmp_path: Path) -> None:
    bundle = tmp_path / "programme.loyab"
    bundle.write_bytes(bundle_bytes())
    command = [sys.executable, "-m", "loyadsl.cli", "eval", str(bundle), str(EXAMPLE / "receipts.jsonl"),
               "--customers", str(EXAMPLE / "customers.jsonl"), "--format", "json"]
    plain = subprocess.run(command, capture_output=True, text=True, check=False)
    runs = [subprocess.run([*command, "--code-cache", str(tmp_path / "cache")], capture_output=True, text=True,
                           check=False) for _ in range(2)]
    assert [r.stdout for r in runs] == [plain.stdout] * 2 and plain.stdout.startswith("{"), runs[0].stderr
    assert len(list((tmp_path / "cache").glob("*.loyc"))) == 3
