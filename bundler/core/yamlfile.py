"""Reading YAML input files (specs, site files) with precise errors.

``load_yaml_with_lines`` parses a file into plain Python values and records the line of every key
path, so that a validator can say ``bundle.yml:12: debs.packages[3]: expected …``.  ``Fields`` walks
a mapping, takes typed values out of it and reports unknown keys, always naming the file, the line
and the key path.  Validators collect problems (``bundler.core.problems.Problem``, ``where`` being
``file:line: key.path``) and raise them together (``Problems``, ``raise_problems``).  Imports
``bundler.core.errors`` and ``bundler.core.problems``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bundler.core.errors import InputError
from bundler.core.problems import Problem

T = TypeVar("T")


@dataclass
class Located:
    """A parsed YAML document and the line (1-based) of each key path in it."""

    path: Path
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key_path: str) -> str:
        """``file:line: key.path`` for messages; the nearest known parent line if the key is absent."""
        probe = key_path
        while probe and probe not in self.lines:
            probe = _parent(probe)
        line = self.lines.get(probe)
        loc = f"{self.path}:{line}" if line else str(self.path)
        return f"{loc}: {key_path}" if key_path else loc


def _parent(key_path: str) -> str:
    if key_path.endswith("]"):
        return key_path[: key_path.rindex("[")]
    return key_path.rpartition(".")[0]


def _join(parent: str, key: object) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` refusing aliases: a ``*name`` can multiply a small file into an endless one
    (billion laughs) or make a value refer to itself; our inputs never need one."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not allowed here; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)


class _KeyError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _construct(node: yaml.Node, key_path: str, lines: dict[str, int], loader: yaml.SafeLoader) -> Any:
    lines.setdefault(key_path, node.start_mark.line + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        raise _KeyError(node.start_mark.line + 1, f"{key_path or 'the document'}: the tag {node.tag} is not allowed")
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                seen = first.get(key)
            except TypeError:
                why = f"{_join(key_path, '?')}: a key must be a plain value, not {_kind(key)}"
                raise _KeyError(line, why) from None
            if seen is not None:
                raise _KeyError(line, f"{_join(key_path, key)}: duplicate key (first at line {seen})")
            first[key] = line
            out[key] = _construct(value_node, _join(key_path, key), lines, loader)
            lines[_join(key_path, key)] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, _join(key_path, i), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


MAX_YAML_BYTES = 16 << 20  # specs, site files and vars stores are kilobytes


def _read(path: Path) -> str:
    try:
        if path.is_file() and path.stat().st_size > MAX_YAML_BYTES:
            raise InputError(f"{path}: {path.stat().st_size} bytes is too large for this file (limit {MAX_YAML_BYTES})")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None


def load_yaml_with_lines(path: Path, text: str | None = None) -> Located:
    """Parse ``path`` (or ``text`` on behalf of it); every error is one line naming the file (and line):
    syntax, aliases, duplicate keys (with both lines), unhashable keys, control characters, nesting."""
    if text is None:
        text = _read(path)
    loader = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        data = None if node is None else _construct(node, "", lines, loader)
    except _KeyError as exc:
        raise InputError(f"{path}:{exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        raise InputError(f"{path}{line}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:  # the reader: control characters, bad encoding
        raise InputError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    return Located(path, data, lines)


def load_yaml(path: Path) -> Any:
    """The plain data of a YAML file, with the errors of ``load_yaml_with_lines``."""
    return load_yaml_with_lines(path).data


def raise_problems(problems: Sequence[Problem | str]) -> None:
    """One ``InputError`` naming every problem (the problem itself when there is one); nothing if none."""
    lines = [str(p) for p in problems]
    if len(lines) == 1:
        raise InputError(lines[0])
    if lines:
        raise InputError(f"{len(lines)} problems:\n  " + "\n  ".join(lines))


class Problems:
    """Collects every problem in an input file, then raises them together as one ``InputError``."""

    def __init__(self, doc: Located):
        self.doc = doc
        self.items: list[Problem] = []

    def add(self, key_path: str, message: str) -> None:
        self.items.append(Problem(self.doc.where(key_path), message))

    def raise_if_any(self) -> None:
        raise_problems(self.items)


_MISSING = object()


class Fields:
    """Typed access to one mapping of a document, reporting into ``Problems``.

    Each getter returns the value, or the default (``None`` unless given) after recording a problem.
    ``done()`` reports keys that no getter asked for, with the list of allowed keys.
    """

    def __init__(self, problems: Problems, key_path: str, value: Any):
        self.problems = problems
        self.key_path = key_path
        self.seen: set[str] = set()
        if value is None:
            value = {}
        if not isinstance(value, dict):
            problems.add(key_path, f"expected a mapping, got {_kind(value)}")
            value = {}
        self.value: dict[str, Any] = value

    def path(self, key: str | int) -> str:
        return _join(self.key_path, key)

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        self.seen.add(key)
        if key in self.value:
            return self.value[key]
        if default is _MISSING:
            self.problems.add(self.path(key), "is required")
            return None
        return default

    def typed(self, key: str, kind: type[T] | tuple[type, ...], default: Any = _MISSING, what: str = "") -> Any:
        value = self.raw(key, default)
        if value is None or value is default:
            return value
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # versions such as 3147 or 2.1 written without quotes
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.add(self.path(key), f"expected {what or _type_name(kind)}, got {_kind(value)}")
            return None if default is _MISSING else default
        return value

    def string(self, key: str, default: Any = _MISSING) -> Any:
        return self.typed(key, str, default, "a string")

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        return self.typed(key, bool, default, "true or false")

    def integer(self, key: str, default: Any = _MISSING) -> Any:
        return self.typed(key, int, default, "an integer")

    def choice(self, key: str, allowed: Iterable[str], default: Any = _MISSING) -> Any:
        allowed = list(allowed)
        value = self.string(key, default)
        if value is not None and value is not default and value not in allowed:
            self.problems.add(self.path(key), f"{value!r} is not one of: {', '.join(allowed)}")
            return None if default is _MISSING else default
        return value

    def string_list(self, key: str, default: Any = _MISSING) -> list[str] | None:
        value = self.raw(key, default)
        if value is None or value is default:
            return value
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problems.add(self.path(key), f"expected a list of strings, got {_kind(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item:
                self.problems.add(_join(self.path(key), i), f"expected a non-empty string, got {_kind(item)}")
                continue
            out.append(item)
        return out

    def sub(self, key: str, required: bool = False) -> Fields | None:
        value = self.raw(key, _MISSING if required else None)
        if value is None:
            return None
        return Fields(self.problems, self.path(key), value)

    def items(self, key: str, parse: Callable[[Fields], T], required: bool = False) -> list[T]:
        """A list of mappings under ``key``, each parsed by ``parse``; problems name the index."""
        value = self.raw(key, _MISSING if required else None)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.add(self.path(key), f"expected a list, got {_kind(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            fields = Fields(self.problems, _join(self.path(key), i), item)
            before = len(self.problems.items)
            parsed = parse(fields)
            fields.done()
            if parsed is not None and len(self.problems.items) == before:
                out.append(parsed)
        return out

    def done(self) -> None:
        unknown = sorted(set(map(str, self.value)) - self.seen)
        for key in unknown:
            allowed = ", ".join(sorted(self.seen)) or "none"
            self.problems.add(self.path(key), f"unknown key (allowed here: {allowed})")


def _type_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_type_name(k) for k in kind)
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", bool: "a boolean"}.get(
        kind, kind.__name__
    )


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"string {value!r}"
    return f"{type(value).__name__} {value!r}"
