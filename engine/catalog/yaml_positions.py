"""Parse YAML at C speed and keep the nodes, so any key path can be traced back to its line."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path_ = tuple  # key path: str keys and int list indices, e.g. ("topics", 0, "form")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _DuplicateAwareLoader(_Loader):
    """The safe loader, also noting keys repeated in one mapping (PyYAML silently keeps the last)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[MappingNode, ScalarNode, ScalarNode]] = []

    def construct_mapping(self, node, deep=False):
        seen: dict[str, ScalarNode] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                if key_node.value in seen:
                    self.duplicates.append((node, seen[key_node.value], key_node))
                seen[key_node.value] = key_node
        return super().construct_mapping(node, deep)


@dataclass
class DuplicateKey:
    path: Path_  # path of the repeated key
    line: int  # line of the repetition
    first_line: int


@dataclass
class PositionedYAML:
    """Plain data plus the text it came from; the node tree is rebuilt only when a line is asked for.

    Keeping every file's nodes alive would cost memory and, through the garbage collector, most of
    the load time; lines are only needed for errors.
    """

    data: object
    text: str | bytes
    duplicates: list[DuplicateKey] = field(default_factory=list)
    _root: Node | None = field(default=None, repr=False)

    def line(self, path: Path_) -> int:
        """1-based line of the deepest existing node along `path` (the parent for a missing key)."""
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=_Loader)
        node = self._root
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            key_node, node = child
            line = key_node.start_mark.line + 1
        return line


def parse_yaml(text: str | bytes) -> PositionedYAML:
    """Parse one YAML document; raises yaml.YAMLError (with problem_mark) on a syntax error."""
    loader = _DuplicateAwareLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
        duplicates = [
            DuplicateKey(_path_of(root, mapping) + (second.value,), second.start_mark.line + 1, first.start_mark.line + 1)
            for mapping, first, second in loader.duplicates
        ]
    finally:
        loader.dispose()
    return PositionedYAML(data, text, duplicates)


@lru_cache(maxsize=512)
def parse_yaml_shared(text: bytes) -> PositionedYAML:
    """`parse_yaml`, remembered by content: a reload parses only the files that changed. The result is shared
    between catalogs: read it, never change it (the loader only validates it into new objects)."""
    return parse_yaml(text)


def _child(node: Node, part) -> tuple[Node, Node] | None:
    """(node giving the line, child node) for one step of a path, or None when absent."""
    if isinstance(node, MappingNode):
        for key_node, value_node in reversed(node.value):  # the last of repeated keys wins, as in the data
            if isinstance(key_node, ScalarNode) and key_node.value == str(part):
                return key_node, value_node
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def _path_of(root: Node, target: Node) -> Path_:
    """The key path from root to `target` (only called for the rare duplicate-key error)."""
    stack: list[tuple[Node, Path_]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if id(node) in seen:  # aliases make the tree a graph
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend((v, path + (k.value,)) for k, v in node.value if isinstance(k, ScalarNode))
        elif isinstance(node, SequenceNode):
            stack.extend((v, path + (i,)) for i, v in enumerate(node.value))
    return ()
