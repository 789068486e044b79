"""The values a template is rendered with: a data file (YAML or JSON) plus `--var KEY=VALUE`.

Without `--data`, a template `ep.yaml.j2` uses `ep.data.yaml` (or `.data.yml`, `.data.json`)
beside it when there is one, so a folder of templated episodes builds without extra flags.
`--var` wins over the data file; a dotted key (`guest.name=Ada`) sets a nested value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem, ValidationError
from .source import read_text, read_yaml_data, real, show_path

DATA_SUFFIXES = (".data.yaml", ".data.yml", ".data.json")
VAR_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


@dataclass(frozen=True)
class TemplateInput:
    data: Path | None = None  # None: the template's own data file, if it has one
    variables: tuple[tuple[str, str], ...] = ()


def parse_var(text: str) -> tuple[str, str]:
    """`guest.name=Ada Byte` -> ('guest.name', 'Ada Byte'); ValueError says what is wrong."""
    key, sep, value = text.partition("=")
    if not sep or not VAR_KEY.match(key.strip()):
        raise ValueError(f"expected KEY=VALUE with KEY a name like guest or guest.name, "
                         f"got {text!r}")
    return key.strip(), value


def is_data_file(path: Path) -> bool:
    return path.name.endswith(DATA_SUFFIXES)


def data_file_for(template: Path) -> Path | None:
    """The data file that belongs to `template` by name, if it exists."""
    stem = template.name.rsplit(".j2", 1)[0].rsplit(".", 1)[0]
    for suffix in DATA_SUFFIXES:
        candidate = template.with_name(stem + suffix)
        if candidate.exists():  # anything by that name: reading it says if it is no file
            return candidate
    return None


def load_inputs(template: Path, inputs: TemplateInput) -> tuple[dict[str, Any], list[Path]]:
    """The render context and the data files it came from."""
    file = real(inputs.data) if inputs.data else data_file_for(template)
    context = load_data(file) if file else {}
    for key, value in inputs.variables:
        _set(context, key.split("."), value)
    return context, [file] if file else []


def load_data(file: Path) -> dict[str, Any]:
    """Read a YAML or JSON mapping, YAML through the project's one loader and its limits;
    any problem is one located Problem."""
    shown = show_path(file)
    if file.suffix == ".json":
        data = _json(read_text(file, shown, "data"), shown)
    else:
        data = read_yaml_data(file, shown, "data").data
    if not isinstance(data, dict):
        raise ValidationError([Problem(shown, 1, "data", "expected a mapping of names to "
                                       "values at the top of the data file")])
    return data


def _json(text: str, shown: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError([Problem(shown, exc.lineno, "data",
                                       f"JSON syntax error: {exc.msg}")]) from None
    except (ValueError, RecursionError) as exc:  # a 5000-digit number; nesting past the stack
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ValidationError([Problem(shown, 1, "data", f"cannot read the JSON: {reason}")]) \
            from None


def _set(context: dict[str, Any], keys: list[str], value: str) -> None:
    for key in keys[:-1]:
        if not isinstance(context.get(key), dict):
            context[key] = {}
        context = context[key]
    context[keys[-1]] = value
