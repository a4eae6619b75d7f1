"""Read YAML files keeping the line of every mapping and value, for error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import Collector, ContentError, Problem
from pipeline.fsutil import read_text_file


class Node(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


# libyaml's parser when PyYAML was built with it (about ten times faster), else pure Python.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[misc]  # chosen at import time
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Node:
    mapping = Node()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name, not a list or mapping", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay strings: the files write them as 'YYYY-MM-DD' and we parse them ourselves.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors and missing files raise an unusable ContentError."""
    return parse_yaml(path, read_text_file(path))


def parse_yaml(path: Path, text: str) -> Any:
    """Parse YAML text that is (or will be) the file `path`; syntax errors raise an unusable ContentError."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ContentError([Problem(path, line, f"invalid YAML: {exc.problem or exc}")], unusable=True) from None


def unknown_keys(node: Node, allowed: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, message) for each key of `node` not in `allowed`, suggesting the closest known one."""
    found = []
    for key in node:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
        found.append((node.line_of(key), f"unknown key {key!r}{hint}"))
    return found


def each_mapping(path: Path, items: Iterable[object], line: int, message: str, problems: Collector) -> Iterator[Node]:
    """The mappings of a YAML list, in order; each other item is reported as `path:line: message` (`line`: the list's)."""
    for item in items:
        if isinstance(item, Node):
            yield item
        else:
            problems.add(path, line, message)
