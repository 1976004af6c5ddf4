"""Checking ``params`` values from the config against the constructor's type annotations.

Model, loss, loader and optimizer parameters pass through the config untyped
(any registered class may take any parameters), so ``beta=abc`` would only
fail inside the constructor, after the data is read. Their annotations say
what each parameter takes; a value that cannot be one is reported with the
other config problems. Annotations this module cannot judge (a class of the
user's, a tensor) accept any value.
"""
from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from typing import Any, Callable, Literal, Union, get_args, get_origin

SCALARS = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}
SEQUENCES = {list, tuple, collections.abc.Sequence, collections.abc.MutableSequence}


def constructors(target: Callable) -> list[Callable]:
    """What takes ``target``'s keyword arguments: a function itself; for a class its ``__init__``,
    then, while an ``__init__`` passes ``**kwargs`` on, the next one up the class's bases."""
    if not isinstance(target, type):
        return [target]
    found = []
    for cls in target.__mro__:
        init = vars(cls).get("__init__")
        if init is None:
            continue
        found.append(init)
        if cls is object or not takes_any_keyword(init):
            break
    return found


def takes_any_keyword(function: Callable) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(function).parameters.values())


def parameter_hints(target: Callable) -> dict[str, Any]:
    """The resolved annotations of ``target``'s parameters (see ``constructors``); empty where they cannot be resolved."""
    hints: dict[str, Any] = {}
    for function in reversed(constructors(target)):
        try:
            hints.update(typing.get_type_hints(function))
        except Exception:
            continue
    return hints


def fits(value: Any, hint: Any) -> bool:
    """Whether a config value can be passed where ``hint`` is annotated."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any or isinstance(hint, typing.TypeVar):
        return True
    if hint is type(None):
        return value is None
    if origin in (Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if origin is Literal:
        return value in args
    if hint in SCALARS:
        return isinstance(value, SCALARS[hint]) and (hint is bool or not isinstance(value, bool))
    if origin in SEQUENCES or hint in SEQUENCES:
        return isinstance(value, (list, tuple)) and _items_fit(value, origin, args)
    return True


def _items_fit(value: list | tuple, origin: Any, args: tuple) -> bool:
    if not args:
        return True
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return len(value) == len(args) and all(fits(item, arg) for item, arg in zip(value, args))
    return all(fits(item, args[0]) for item in value)


def describe(hint: Any) -> str:
    """``float``, ``int | None``, ``one of 'relu', 'topk'``: the annotation as a user reads it."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin in (Union, types.UnionType):
        return " | ".join(describe(arg) for arg in args)
    if hint is type(None):
        return "null"
    if origin in SEQUENCES or hint in SEQUENCES:
        return f"a list of {describe(args[0])}" if args else "a list"
    return getattr(hint, "__name__", str(hint))
