"""Safe YAML loading that remembers where every value came from.

Config errors must name the file and line of the offending value, so we keep PyYAML's node
tree next to the plain Python data and map validation error locations back onto it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

# Limits that keep a hostile document (an alias "billion laughs", thousands of nested brackets, megabytes of
# values or comments) from exhausting time, memory or the stack of whoever validates it. They are enforced
# while reading: the size before parsing, nesting and values as each value is read, and the alias-expanded
# tree before anything is built. Real configs are far below them (the presets: < 3 KB, < 300 values).
MAX_BYTES = 1 << 20  # the document's size
MAX_DEPTH = 64  # nesting of mappings and sequences, counting the levels that aliases add
MAX_NODES = 20_000  # values in the document, as written and with every alias expanded
# C0 control characters and DEL, which YAML's escapes ("\0", "\x01") can put into a string; tab, newline and
# carriage return are text
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class YamlError(Exception):
    """A file that is not well-formed YAML (or repeats a key)."""

    def __init__(self, file: str, line: int, message: str):
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line} {message}")


@dataclass(frozen=True)
class YamlDocument:
    path: str
    data: Any
    root: yaml.Node | None

    def locate(self, loc: tuple[Any, ...], missing: bool = False) -> tuple[int, tuple[Any, ...]]:
        """Map a validation error location to (1-based line, path as written in the YAML).

        Components that have no counterpart in the YAML text (union tags that pydantic adds,
        the synthetic keys of shorthand values) are dropped; with `missing`, the last component
        is a key absent from the YAML, kept in the path and reported at its parent's line.
        """
        node = self.root
        line = node.start_mark.line + 1 if node is not None else 1
        path: list[Any] = []
        for i, comp in enumerate(loc):
            found = _child(node, comp)
            if found is not None:
                anchor, node = found
                line = anchor.start_mark.line + 1
                path.append(comp)
            elif missing and i == len(loc) - 1:
                path.append(comp)
        return line, tuple(path)


def _child(node: yaml.Node | None, comp: Any) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node whose line names the child, the child's value node), or None if there is none."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(comp):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(comp, int) and 0 <= comp < len(node.value):
        return node.value[comp], node.value[comp]
    return None


_Parser = getattr(getattr(yaml, "_yaml", None), "CParser", None)  # libyaml's, when PyYAML was built with it


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


class _Loader(Composer, SafeConstructor, Resolver, _Parser or _PyParser):
    """A safe loader (no object construction) that rejects duplicate keys, and nesting beyond MAX_DEPTH or more
    than MAX_NODES values as the document is read. PyYAML's own composer (written in Python, so that each value
    can be counted as it is read) runs over libyaml's events, which are ~4x faster to make than PyYAML's."""

    def __init__(self, stream):
        (_Parser or _PyParser).__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            if self._nodes > MAX_NODES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_NODES} values",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def check_expansion(root: yaml.Node, path: str) -> None:
    """Refuse a node graph whose alias-expanded tree exceeds MAX_NODES values or MAX_DEPTH levels, or
    that contains itself. Each node is measured once, so a bomb is caught in time linear in its text."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values in its expanded tree, height)
    open_nodes: set[int] = set()

    def visit(node: yaml.Node, level: int) -> tuple[int, int]:
        def refuse(message: str):
            raise YamlError(path, node.start_mark.line + 1, message)

        known = measured.get(id(node))
        if known is None:
            if id(node) in open_nodes:
                refuse("an alias refers to a value that contains it")
            if level > MAX_DEPTH:
                refuse(f"nested deeper than {MAX_DEPTH} levels (counting aliases)")
            open_nodes.add(id(node))
            below = [visit(child, level + 1) for child in _children(node)]
            open_nodes.discard(id(node))
            known = (1 + sum(n for n, _ in below), 1 + max((h for _, h in below), default=0))
            measured[id(node)] = known
        if known[0] > MAX_NODES:
            refuse(f"more than {MAX_NODES} values once aliases are expanded")
        if level + known[1] - 1 > MAX_DEPTH:
            refuse(f"nested deeper than {MAX_DEPTH} levels (counting aliases)")
        return known

    visit(root, 1)


def check_strings(root: yaml.Node, path: str) -> None:
    """Refuse a string value or key holding a control character (an escape such as "\\0" makes one), naming
    the field: no name, path or text of the product has a use for them, and a NUL crashes whatever opens a
    file by that name."""
    seen: set[int] = set()

    def visit(node: yaml.Node, where: tuple) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            found = CONTROL.search(node.value)
            if found:
                field = ".".join(map(str, where)) or "the document"
                raise YamlError(path, node.start_mark.line + 1,
                                f"{field}: contains a control character (U+{ord(found.group()):04X})")
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                visit(key, where + (name,))
                visit(value, where + (name,))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                visit(value, where + (i,))

    visit(root, ())


def parse_yaml(text: str, path: str = "<string>") -> YamlDocument:
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_BYTES else len(text)
    if size > MAX_BYTES:
        raise YamlError(path, 1, f"is {size} bytes; a config may have at most {MAX_BYTES}")
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                check_expansion(root, path)
                check_strings(root, path)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = str(exc.problem or exc.context)
        if "maximum nesting depth" in problem:  # libyaml's own limit, met when it reads ahead
            problem = f"nested deeper than {MAX_DEPTH} levels"
        raise YamlError(path, line, problem) from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, str(exc)) from None
    return YamlDocument(path=path, data=data, root=root)


def load_yaml(path: str | Path) -> YamlDocument:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # never more: a huge file is refused without reading it
        if len(data) > MAX_BYTES:
            raise YamlError(str(path), 1, f"is larger than {MAX_BYTES} bytes; a config may have at most {MAX_BYTES}")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise YamlError(str(path), 1, "file not found") from None
    except IsADirectoryError:
        raise YamlError(str(path), 1, "is a folder, not a YAML file") from None
    except OSError as exc:
        raise YamlError(str(path), 1, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise YamlError(str(path), 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_yaml(text, str(path))
