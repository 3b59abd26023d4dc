"""YAML read with the line of every value, so a test file's errors and failing expectations name
``file:line``. The safe loader composes nodes (nothing is constructed from tags); aliases are refused,
as in the YAML twin of programmes; timestamps stay the text written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from loyadsl.runtime.limits import MAX_YAML_DEPTH

Path_ = tuple[str | int, ...]
Place = tuple[int, int, int, int]  # line, column, end line, end column (exclusive), all 1-based


class YamlError(Exception):
    """A document that cannot be read: ``line`` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


@dataclass
class Located:
    """The plain data of a document and the line of each value, by its path of keys and indexes."""

    data: Any
    places: dict[Path_, Place] = field(default_factory=dict)

    def place(self, path: Path_) -> Place:
        """Where ``path`` is written (a key and its value, or an item), or its nearest ancestor."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.places:
                return self.places[path[:end]]
        return 1, 1, 1, 1


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            raise YamlError("aliases are not allowed in a test file", self.peek_event().start_mark.line + 1)
        return super().compose_node(parent, index)


def load(text: str) -> Located:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(f"not valid YAML: {exc.problem or exc}", mark.line + 1 if mark else 0) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {exc}", 0) from None
    located = Located(None)
    located.data = None if root is None else _value(root, (), located.places, 0)
    return located


def _at(start: Node, end: Node) -> Place:
    return start.start_mark.line + 1, start.start_mark.column + 1, end.end_mark.line + 1, end.end_mark.column + 1


_SCALARS = {"tag:yaml.org,2002:int": int, "tag:yaml.org,2002:bool": bool, "tag:yaml.org,2002:null": type(None),
            "tag:yaml.org,2002:float": float}


def _value(node: Node, path: Path_, places: dict[Path_, Place], depth: int) -> Any:
    if depth > MAX_YAML_DEPTH:
        raise YamlError(f"nested deeper than {MAX_YAML_DEPTH} levels", node.start_mark.line + 1)
    places[path] = _at(node, node)
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YamlError("a mapping key must be a plain value", key_node.start_mark.line + 1)
            key = str(key_node.value)
            if key in out:
                raise YamlError(f"the key `{key}` is given twice", key_node.start_mark.line + 1)
            out[key] = _value(value_node, (*path, key), places, depth + 1)
            places[(*path, key)] = _at(key_node, value_node)
        return out
    if isinstance(node, SequenceNode):
        return [_value(item, (*path, i), places, depth + 1) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    kind = _SCALARS.get(node.tag)
    if kind is None or node.style:  # quoted or anything else (dates too): the text as written
        return node.value
    return yaml.constructor.SafeConstructor().construct_object(node)
