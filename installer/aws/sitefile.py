"""Writing resource ids back into the operator's site file, keeping its comments, order and mode.

``set_values(path, {"network.subnet_id": "subnet-…", …})`` edits only the lines of those keys
(``key: value  # comment`` keeps its comment), inserts a missing key as the first line of its
section, and appends a missing section at the end.  The result is parsed again and compared before
it atomically replaces the file; its mode is kept, and narrowed to 0600 when the file holds an AWS
secret key.  Only block-style two-level keys (``section.key``) with scalar values are edited.
Imports ``bundler.core.yamlfile`` and ``bundler.core.errors``.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import yaml

from bundler.core.errors import InputError
from bundler.core.yamlfile import load_yaml_with_lines

_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[^\s#:][^:#]*?):(?P<value>.*?)(?P<comment>\s+#.*)?$")


def _scalar(value: str | None) -> str:
    if value in (None, ""):
        return ""
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text.removesuffix("...").strip()


def set_values(path: Path, values: Mapping[str, str | None]) -> bool:
    """Set ``section.key`` paths in the YAML file at ``path``; returns whether the file changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for key_path, value in values.items():
        doc = load_yaml_with_lines(path, "".join(lines))
        section, _, key = key_path.partition(".")
        if not key or "." in key:
            raise ValueError(f"only section.key paths are supported, not {key_path!r}")
        data = doc.data if isinstance(doc.data, dict) else {}
        block = data.get(section)
        if block is not None and not isinstance(block, dict):
            raise InputError(f"{doc.where(section)}: expected a mapping")
        if block is not None and key in block:
            if isinstance(block[key], (dict, list)):
                raise InputError(f"{doc.where(key_path)}: expected a single value")
            index = doc.lines[key_path] - 1
            match = _LINE.match(lines[index].rstrip("\n"))
            if not match or match.group("key").strip() != key:
                raise InputError(f"{doc.where(key_path)}: cannot edit this line; write it as '{key}: value'")
            new = _scalar(value)
            lines[index] = f"{match.group('indent')}{key}:{' ' + new if new else ''}{match.group('comment') or ''}\n"
        elif block is not None:
            index = doc.lines[section] - 1
            if not lines[index].rstrip().endswith(":") and "#" not in lines[index]:
                raise InputError(f"{doc.where(section)}: write this section in block style to let it be edited")
            children = [doc.lines[k] for k in doc.lines if k.startswith(section + ".") and k.count(".") == 1]
            first = lines[min(children) - 1] if children else ""
            indent = first[: len(first) - len(first.lstrip())] if children else "  "
            new = _scalar(value)
            lines.insert(index + 1, f"{indent}{key}:{' ' + new if new else ''}\n")
        else:
            lines.append(f"{section}:\n  {key}:{' ' + _scalar(value) if value else ''}\n")
    new_text = "".join(lines)
    check = load_yaml_with_lines(path, new_text).data
    for key_path, value in values.items():
        section, _, key = key_path.partition(".")
        got = (check.get(section) or {}).get(key)
        if (got or None) != (value or None):
            raise InputError(f"{path}: writing {key_path} would not round-trip ({got!r} instead of {value!r})")
    if new_text == text:
        return False
    _replace(path, new_text, holds_secret=bool((check.get("aws") or {}).get("secret_access_key")))
    return True


def _replace(path: Path, text: str, *, holds_secret: bool) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if holds_secret:
        mode &= 0o600
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
