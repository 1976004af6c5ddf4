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
import types
import typing
from typing import Any, Callable, Literal, Union, get_args, get_origin

SCALARS = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}
SEQUENCES = {list, tuple, collections.abc.Sequence, collections.abc.MutableSequence}


def parameter_hints(target: Callable) -> dict[str, Any]:
    """The resolved annotations of ``target``'s parameters (its ``__init__`` for a class); empty if they cannot be resolved."""
    function = target.__init__ if isinstance(target, type) else target
    try:
        return typing.get_type_hints(function)
    except Exception:
        return {}


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
