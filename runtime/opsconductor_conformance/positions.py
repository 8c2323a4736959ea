"""Where a JSON pointer sits in a document's text: line and column, for SARIF and GitHub output.

Code scanning and workflow annotations need a line to annotate, while findings name JSON
pointers. A `PositionMap` composes the document's text with the YAML composer (libyaml's when
PyYAML has it; JSON is YAML here), which keeps every node's start mark, and answers pointers
from that node tree. It is built only for the formats that show positions, and only once per
document: composing costs about as much again as parsing the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from .schemaset import unescape_pointer_token

__all__ = ["Position", "PositionMap"]

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Position:
    """A place in a text: line and column, both counted from 1."""

    line: int
    column: int


class PositionMap:
    """The positions of a document's values, by JSON pointer (see the module docstring)."""

    def __init__(self, text: str) -> None:
        try:
            self._root: Node | None = yaml.compose(text, Loader=_LOADER)
        except (yaml.YAMLError, RecursionError):
            self._root = None

    def locate(self, pointer: str) -> Position | None:
        """Where the member a pointer names starts (its key, in a mapping).

        A pointer that goes past what the text holds (into a resolved `$ref`, say) gets the
        position of the deepest node it reaches; None when the text could not be composed.
        """
        node = self._root
        if node is None:
            return None
        mark = node.start_mark
        for token in pointer.split("/")[1:] if pointer else []:
            name = unescape_pointer_token(token)
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    if getattr(key, "value", None) == name:
                        mark, node = key.start_mark, value
                        break
                else:
                    break
            elif (
                isinstance(node, SequenceNode) and token.isdigit() and int(token) < len(node.value)
            ):
                node = node.value[int(token)]
                mark = node.start_mark
            else:
                break
        return Position(mark.line + 1, mark.column + 1)
