"""The OpenAPI 3.1 document of the protocol, made from ``models.ENDPOINTS`` and their pydantic models.

``python -m loyadsl.server.openapi > docs/openapi.json`` writes the checked-in copy; a test checks it
is up to date.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from loyadsl import __version__
from loyadsl.server.models import ENDPOINTS, Endpoint, ProblemOut

ERRORS = {"400": "LOY800", "401": "LOY803", "403": "LOY804", "404": "LOY805, LOY808, LOY816", "409": "LOY806, LOY809, "
          "LOY810, LOY814", "413": "LOY802", "422": "LOY801, LOY807, LOY811, LOY815", "503": "LOY813"}


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [ProblemOut]
    for e in ENDPOINTS:
        for model in (e.body, e.answer):
            if isinstance(model, type) and model not in found:
                found.append(model)
    return found


def document() -> dict[str, Any]:
    models = _models()
    refs, schemas = models_json_schema([(m, "validation") for m in models],
                                       ref_template="#/components/schemas/{model}")
    ref = {m: refs[m, "validation"] for m in models}
    paths: dict[str, dict[str, Any]] = {}
    for e in ENDPOINTS:
        paths.setdefault(e.path, {})[e.method.lower()] = _operation(e, ref)
    return {
        "openapi": "3.1.0",
        "info": {"title": "loyadsl processing server", "version": __version__,
                 "description": "Two-phase receipt processing (docs/server.md). Errors are "
                                "application/problem+json with a LOY code (docs/codes/)."},
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "`loya db key --store S` (a till) or `--admin`"}},
        },
    }


def _operation(e: Endpoint, ref: dict[type[BaseModel], Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": e.name, "summary": e.summary}
    if "{" in e.path:
        name = e.path.split("{")[1].split("}")[0]
        op["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}]
    if e.scope is not None:
        op["security"] = [{"apiKey": []}]
        op["x-scope"] = e.scope
    if isinstance(e.body, type):
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref[e.body]}}}
    elif e.body == "bundle":
        op["requestBody"] = {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}}
    if isinstance(e.answer, type):
        content = {"application/json": {"schema": ref[e.answer]}}
    elif e.answer == "bundle":
        content = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    else:
        content = {"text/plain": {"schema": {"type": "string"}}}
    problem = {"application/problem+json": {"schema": ref[ProblemOut]}}
    op["responses"] = {str(e.status): {"description": "done", "content": content},
                       **{status: {"description": codes, "content": problem} for status, codes in ERRORS.items()},
                       "500": {"description": "LOY819 (a bug)", "content": problem}}
    return op


def text() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(text(), end="")
