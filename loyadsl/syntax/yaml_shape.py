"""The shape of a YAML programme, checked by its model (``schema_programme.YamlProgramme``) before the
twin's reader reads it (issue 16, item 2): which sections, which keys in each mapping, which values
are lists, mappings or single values, which keys are required and which go together.

The composed document is turned into plain values (every scalar the text written, a plain null as
None) while each path keeps its key and value nodes, so every pydantic error is reported as LOY106 at
its node's line:column: an unknown key at the key (with a "did you mean"), a missing key at its
mapping, a value of the wrong kind at the value. A key given twice, or a key that is a collection,
is refused here too (a plain mapping cannot hold them). Where a value fits no branch of a union, the
branch whose error lies deepest explains it, and shape mismatches at one node make one message.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error
from loyadsl.schema_programme import YamlProgramme, keys

Path = tuple[str | int, ...]
_NULL = "tag:yaml.org,2002:null"
SHAPES = {"string_type": "a single value", "list_type": "a list", "dict_type": "a mapping",
           "model_type": "a mapping", "model_attributes_type": "a mapping"}


def shape_errors(root: Node, file: str) -> list[tuple[Path, Diagnostic]]:
    """Every place where the document differs from its model, with the path of the node it is about: the
    keys refused first (a misspelt key explains the missing one), then the rest, each in document order."""
    return [(path, diag) for _, _, path, _, diag in _errors(root, file)]


def mismatches(root: Node, file: str) -> list[tuple[Path, Diagnostic]]:
    """The same errors, each with the path it names in the document: for a missing key, that key (its
    diagnostic stays at the mapping)."""
    return [(named, diag) for _, _, _, named, diag in _errors(root, file)]


def _errors(root: Node, file: str) -> list[tuple[bool, Span, Path, Path, Diagnostic]]:
    doc = _Document(file)
    data = doc.plain(root, ())
    try:
        YamlProgramme.model_validate(data)
    except ValidationError as exc:
        doc.report(data, exc.errors())
    return sorted(doc.errors, key=lambda found: (not found[0], found[1].line, found[1].col))


class _Document:
    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[Path, Node] = {}
        self.keys: dict[Path, Node] = {}
        # (at a key?, where, the path of its node, the path it names, diagnostic)
        self.errors: list[tuple[bool, Span, Path, Path, Diagnostic]] = []

    def fail(self, path: Path, node: Node, message: str, hint: str | None = None, key: bool = False,
             named: Path | None = None) -> None:
        span = Span(self.file, node.start_mark.line + 1, node.start_mark.column + 1, node.end_mark.line + 1,
                    node.end_mark.column + 1)
        self.errors.append((key, span, path, path if named is None else named, error("LOY106", message, span, hint)))

    def node(self, path: Path, key: bool = False) -> Node:
        """The key or value node of ``path``, or of the nearest enclosing path the document has."""
        found = (self.keys if key else self.values).get(path)
        return found if found is not None else self.node(path[:-1]) if path else self.values[()]

    def plain(self, node: Node, at: Path) -> Any:
        """The value of a composed node, keeping the nodes of each path (the first of a repeated key)."""
        self.values[at] = node
        if isinstance(node, MappingNode):
            out: dict[str, Any] = {}
            for index, (key, value) in enumerate(node.value):
                if not isinstance(key, ScalarNode):
                    self.fail((*at, f"\0{index}"), key, f"the keys of {_what(at)} are words, not collections", key=True)
                elif key.value in out:
                    self.fail((*at, key.value), key, f"`{key.value}` appears twice in {_what(at)}", key=True)
                else:
                    self.keys[(*at, key.value)] = key
                    out[key.value] = self.plain(value, (*at, key.value))
            return out
        if isinstance(node, SequenceNode):
            return [self.plain(item, (*at, i)) for i, item in enumerate(node.value)]
        return None if isinstance(node, ScalarNode) and node.tag == _NULL and node.style is None else str(node.value)

    def report(self, data: Any, errors: list[Any]) -> None:
        for path, found in settled(data, errors).items():
            shapes = [e for e in found if e["type"] in SHAPES]
            for e in [e for e in found if e["type"] not in SHAPES]:
                self.one(path, e)
            if shapes:
                self.mismatch(path, shapes)

    def one(self, path: Path, e: Any) -> None:
        kind, ctx = e["type"], e.get("ctx") or {}
        if kind == "missing":  # the key is not in the document: at its mapping
            self.fail(path, self.node(path), f"{_what(path)} has no `{e['loc'][-1]}`", named=(*path, e["loc"][-1]))
        elif kind == "extra_forbidden":
            mapping, key = path[:-1], str(path[-1])
            model = _model_at(mapping)
            allowed = keys(model) if model is not None else ()
            message = getattr(model, "unknown", "unknown key `{key}` in {what}").format(key=key, what=_what(mapping))
            self.fail(path, self.node(path, key=True), message,
                      did_you_mean(key, allowed) or f"the keys are: {', '.join(allowed)}", key=True)
        elif kind == "loy_shape":
            at = (*path, *ctx.get("at", ()))
            self.fail(at, self.node(at, key=bool(ctx.get("key"))), e["msg"], ctx.get("hint"), key=bool(ctx.get("key")))
        elif kind == "literal_error":
            expected = str(ctx.get("expected", "")).replace("'", "`")
            self.fail(path, self.node(path), f"{_who(path)} is {expected}, not `{e['input']}`")
        elif kind in ("too_short", "too_long") and isinstance(e["input"], dict):
            self.fail(path, self.node(path), f"each entry of {_who(path[:-1])} is a mapping with one key")
        elif kind == "too_short":
            self.fail(path, self.node(path), f"{_who(path)} lists at least one item")
        else:
            self.fail(path, self.node(path), f"{_who(path)}: {e['msg']}")

    def mismatch(self, path: Path, found: list[Any]) -> None:
        """A value of the wrong kind: one message naming every kind it may have."""
        if found[0]["input"] is None:
            self.fail(path, self.node(path), f"{_who(path)} needs a value")
            return
        shapes = list(dict.fromkeys(SHAPES[e["type"]] for e in found))
        message = f"{_who(path)} must be {' or '.join(shapes)}"
        self.fail(path, self.node(path), message + (", not a collection" if shapes == ["a single value"] else ""))


def settled(data: Any, errors: list[Any]) -> dict[Path, list[Any]]:
    """Pydantic's errors by the path in the document they are about (a missing key: its mapping), without
    those that only say "the other branch of a union did not fit" (a value of another kind), which an error
    deeper, or of another kind at the path, explains."""
    placed = [(in_document(data, e["loc"]), e) for e in errors]
    deeper = {(*path, e["loc"][-1]) if e["type"] == "missing" else path for path, e in placed}
    other = {path for path, e in placed if e["type"] not in SHAPES}
    by_path: dict[Path, list[Any]] = {}
    for path, e in placed:
        if e["type"] in SHAPES and (path in other or any(len(d) > len(path) and d[:len(path)] == path
                                                          for d in deeper)):
            continue
        by_path.setdefault(path, []).append(e)
    return by_path


def in_document(data: Any, loc: tuple[Any, ...]) -> Path:
    """The part of a pydantic error location that is in the document (union branch names are not)."""
    found: list[str | int] = []
    for key in loc:
        if (isinstance(data, dict) and key in data) or (isinstance(data, list) and isinstance(key, int)
                                                         and 0 <= key < len(data)):
            data = data[key]
            found.append(key)
    return tuple(found)


def _model_at(path: Path) -> Any:
    """The model of the mapping at ``path``, if a model describes it."""
    types_here: list[Any] = [YamlProgramme]
    for step in path:
        types_here = [child for tp in types_here for child in _children(tp, step)]
    return next((tp for tp in _flat(types_here) if isinstance(tp, type) and issubclass(tp, BaseModel)), None)


def _flat(tps: list[Any]) -> list[Any]:
    """The types, each union as its members, without their annotations."""
    out = []
    for tp in tps:
        origin, args = get_origin(tp), get_args(tp)
        out += _flat([args[0]]) if origin is Annotated else _flat(list(args)) if origin in (
            Union, types.UnionType) else [tp]
    return out


def _children(tp: Any, step: str | int) -> list[Any]:
    return [child for one in _flat([tp]) for child in _child(one, step)]


def _child(tp: Any, step: str | int) -> list[Any]:
    origin, args = get_origin(tp), get_args(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(step, str):
        return [f.annotation for name, f in tp.model_fields.items() if (f.alias or name) == step]
    if origin is list and isinstance(step, int):
        return [args[0]]
    if origin is dict and isinstance(step, str):
        return [args[1]]
    return []


def _what(path: Path) -> str:
    """How messages name the mapping at ``path``."""
    model = _model_at(path)
    if model is not None:
        return str(model.what)
    return _who(path)


def _who(path: Path) -> str:
    """How messages name the value at ``path``."""
    model = _model_at(path)
    if model is not None:
        return str(model.what)
    if not path:
        return "the document"
    if isinstance(path[-1], int):
        return f"an item of {_who(path[:-1])}"
    return f"`{path[-1]}`"
