"""Checking a document against a contract's model (issue 16, item 2), naming where it differs: the
path inside the document (``campaigns[2].then``) and, for a YAML programme, the line and column of
the node (LOY124). ``loya schema NAME --check FILE`` uses it.

A YAML programme is composed with the limits every YAML input gets (``yaml_twin.compose_yaml``) and
checked by the reader's own shape check (``syntax/yaml_shape``: one conversion to plain values, one
model, one way to place each pydantic error on its node), each error named by its path as LOY124.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from loyadsl.diagnostics import Diagnostic, Span, error
from loyadsl.syntax.yaml_shape import SHAPES, mismatches, settled

Loc = tuple[int | str, ...]


def json_path(loc: Loc) -> str:
    """``("campaigns", 0, "then")`` -> ``campaigns[0].then``."""
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(the document)"


def model_errors(model: Any, data: Any) -> list[tuple[Loc, str | None, str]]:
    """(path in the document, missing key or None, message) for each mismatch, placed as the YAML
    programme's are (``yaml_shape.settled``); a value of the wrong kind makes one message naming every
    kind it may have, over every branch of a union."""
    try:
        TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        errors = exc.errors()
    else:
        return []
    out: dict[tuple[Loc, str | None], str] = {}
    for loc, found in settled(data, errors).items():
        for e in found:
            if e["type"] not in SHAPES:
                out.setdefault((loc, str(e["loc"][-1]) if e["type"] == "missing" else None), e["msg"])
        shapes = list(dict.fromkeys(SHAPES[e["type"]] for e in found if e["type"] in SHAPES))
        if shapes:
            out[(loc, None)] = f"expected {', '.join(shapes[:-1])} or {shapes[-1]}" if len(shapes) > 2 else \
                f"expected {' or '.join(shapes)}"
    return [(loc, missing, msg) for (loc, missing), msg in out.items()]


def _message(loc: Loc, missing: str | None, msg: str) -> str:
    if missing is not None:
        return f"{json_path((*loc, missing))}: required key is missing"
    if msg == "Extra inputs are not permitted":
        return f"{json_path(loc)}: this key is not in the schema"
    return f"{json_path(loc)}: {msg[0].lower()}{msg[1:]}"


def check_yaml_programme(text: str, file: str = "<input>") -> list[Diagnostic]:
    """A YAML programme's mismatches with its schema (LOY124 at the node, naming the path), or why it is
    not read (not YAML: LOY106; beyond the limits: their codes)."""
    from loyadsl.syntax.yaml_twin import compose_yaml

    root, refused = compose_yaml(text, file)
    if refused or root is None:
        return refused
    return [error("LOY124", f"the programme does not match its schema at {json_path(path)}: {diag.message}",
                  diag.span, diag.hint or _SEE) for path, diag in mismatches(root, file)]


_SEE = "see docs/schemas/programme.schema.json (docs/language.md, \"The YAML twin\")"


def check_json(model: type[BaseModel] | Any, data: Any) -> list[str]:
    """A parsed JSON document's mismatches with a model, each starting with its path (for the bundle's
    msgspec model, the first one: the loader stops there too)."""
    from loyadsl.schema_bundle import BundlePayload, problems

    if model is BundlePayload:
        return problems(data)
    return [_message(loc, missing, msg) for loc, missing, msg in model_errors(model, data)]


def check_file(name: str, path: Path, text: str) -> list[Diagnostic]:
    """``loya schema NAME --check FILE``: a YAML programme (LOY124), or a JSON document — each line of a
    ``.jsonl`` file, the payload of a bundle file — against contract ``name`` (LOY125, on the document's
    line)."""
    if name == "programme":
        return check_yaml_programme(text, str(path))
    documents: list[tuple[int, Any]] = []
    skipped = 0
    if name == "bundle" and text.startswith("LOYAB\n") and text.count("\n") >= 2:  # a bundle file: the payload
        skipped, text = 2, text.split("\n", 2)[2]  # follows the magic and envelope lines (docs/bundle.md)
    try:
        if path.suffix == ".jsonl":
            documents = [(i, json.loads(line)) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
        else:
            documents = [(1 + skipped, json.loads(text))]
    except json.JSONDecodeError as exc:
        line = exc.lineno + skipped
        return [error("LOY125", f"not JSON: {exc.msg}", Span(str(path), line, exc.colno, line, exc.colno))]
    return [error("LOY125", f"the {name} does not match its schema at {problem}", Span(str(path), line, 1, line, 1),
                  f"see docs/schemas/{name}.schema.json")
            for line, document in documents for problem in _problems(name, document)]


def _problems(name: str, document: Any) -> list[str]:
    if name == "receipt":  # the receipt's model is the till's msgspec decoder, not pydantic
        from loyadsl.runtime import Receipt, ReceiptError

        try:
            Receipt.from_dict(document)
        except ReceiptError as exc:
            return [str(exc)]
        return []
    from loyadsl.schemas import MODELS

    return check_json(MODELS[name], document)
