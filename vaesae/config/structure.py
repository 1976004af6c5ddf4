"""Check a plain config tree against the schema dataclasses, collecting every problem.

Hydra/OmegaConf stop at the first bad key; users fixing a config want the whole
list at once, each with its key path, so this walker records problems instead
of raising.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, Mapping

from omegaconf import MISSING

from vaesae.registry import did_you_mean

_MISSING_MARK = "???"


def key_of(field: dataclasses.Field) -> str:
    """The config key of a schema field (``class_`` is spelled ``class`` in YAML)."""
    return field.metadata.get("key", field.name)


def is_required(field: dataclasses.Field) -> bool:
    return field.default is MISSING and field.default_factory is dataclasses.MISSING


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin in (list, typing.List):
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin in (dict, typing.Dict) or dataclasses.is_dataclass(tp):
        return "a mapping"
    if tp is type(None):
        return "null"
    return {str: "a string", int: "an integer", float: "a number", bool: "true/false"}.get(tp, str(tp))


def _scalar_ok(value: Any, tp: type) -> bool:
    if tp is Any:
        return True
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)


class StructureChecker:
    """Walks a container and a schema type side by side, appending to ``problems``."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, value: Any, tp: Any, path: str, field: dataclasses.Field | None = None) -> None:
        spec = field.metadata.get("spec") if field is not None else None
        origin = typing.get_origin(tp)
        if origin is typing.Union:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if value is None:
                return
            tp, origin = args[0], typing.get_origin(args[0])
        if spec is not None:
            self._check_mapping(value, spec, path, field.metadata.get("extra_keys", False))
        elif dataclasses.is_dataclass(tp):
            self._check_mapping(value, tp, path, extra_keys=False)
        elif origin in (list, typing.List):
            self._check_list(value, tp, path)
        elif origin in (dict, typing.Dict):
            if not isinstance(value, Mapping):
                self._wrong_type(value, tp, path)
        elif not _scalar_ok(value, tp):
            self._wrong_type(value, tp, path)

    def _check_list(self, value: Any, tp: Any, path: str) -> None:
        if not isinstance(value, list):
            self._wrong_type(value, tp, path)
            return
        item_type = typing.get_args(tp)[0]
        for index, item in enumerate(value):
            self.check(item, item_type, _join(path, index))

    def _check_mapping(self, value: Any, schema: type, path: str, extra_keys: bool) -> None:
        if not isinstance(value, Mapping):
            self._wrong_type(value, schema, path)
            return
        hints = typing.get_type_hints(schema)
        known = {}
        for field in dataclasses.fields(schema):
            key = key_of(field)
            known[key] = field
            if key not in value or value[key] == _MISSING_MARK:
                if is_required(field):
                    self.problems.append(f"{_join(path, key)}: missing required value ({_type_name(hints[field.name])})")
                continue
            self.check(value[key], hints[field.name], _join(path, key), field)
        if not extra_keys:
            for key in value:
                if key not in known:
                    self.problems.append(
                        f"{_join(path, key)}: unknown key{did_you_mean(key, known)}; "
                        f"accepted: {', '.join(known)}"
                    )

    def _wrong_type(self, value: Any, tp: Any, path: str) -> None:
        self.problems.append(f"{path}: expected {_type_name(tp)}, got {value!r}")


def check_structure(container: Mapping, schema: type) -> list[str]:
    """Every structural problem of ``container`` against ``schema``, as messages."""
    checker = StructureChecker()
    checker.check(container, schema, "")
    return checker.problems
