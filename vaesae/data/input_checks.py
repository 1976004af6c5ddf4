"""Checks on input files that would otherwise give a silently wrong result or a puzzling message.

Each check is vectorised (Arrow compute or NumPy over whole columns), so it
adds little to the time a file takes to load.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vaesae.errors import DataError

FLOAT32_MAX = float(np.finfo(np.float32).max)
NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|infinity|nan)$"
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _no_repeated_keys(path: Path):
    def pairs_to_dict(pairs: list[tuple[str, object]]) -> dict:
        repeated = sorted(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        if repeated:
            raise DataError(f"{path}: key(s) {', '.join(map(repr, repeated))} appear more than once in one object; "
                            "JSON keeps only the last, so each must be given once")
        return dict(pairs)

    return pairs_to_dict


def parse_cardinalities(path: Path, text: str) -> object:
    """The cardinalities JSON, refusing a key repeated inside one object (JSON would keep the last silently)."""
    try:
        return json.loads(text, object_pairs_hook=_no_repeated_keys(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def shared_codes(path: Path, column: str, labels: dict[str, int]) -> str | None:
    """A problem line when two labels of ``column`` share a code (their categories would be merged)."""
    by_code: dict[int, list[str]] = {}
    for label, code in labels.items():
        by_code.setdefault(code, []).append(label)
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    if not shared:
        return None
    code, names = min(shared.items())
    return (f"{path}: column {column!r}: labels {', '.join(map(repr, names))} share code {code}; "
            "each label needs its own code, or the categories are merged")


def repeated_columns(path: Path, header: list[str], wanted: list[str]) -> None:
    """Refuse a file in which a column that is used appears twice (one of them would be ignored)."""
    counts = Counter(header)
    repeated = [column for column in wanted if counts[column] > 1]
    if repeated:
        raise DataError(f"{path}: column(s) {', '.join(map(repr, repeated))} appear more than once in the header; "
                        "rename or drop the copies so it is clear which one to use")


def delimiter_hint(header: list[str]) -> str:
    """``"; the file looks semicolon-separated …"`` when a one-field header holds another delimiter, else ``""``."""
    if len(header) != 1:
        return ""
    for delimiter, name in OTHER_DELIMITERS.items():
        if delimiter in header[0]:
            return (f"; the file looks {name}-separated ({delimiter!r}), but vaesae reads comma-separated files "
                    "with a decimal point: save it as such")
    return ""


def block_too_small(path: Path, exc: pa.ArrowInvalid, block_size: int) -> DataError | None:
    """A clear message for Arrow's "straddling object" error: a row larger than the reader's block."""
    if "straddl" not in str(exc):
        return None
    return DataError(f"{path}: a single row is longer than {block_size >> 20} MiB (a cell holding a huge value?); "
                     "rows of that size are not tabular data vaesae can read")


def parse_numbers(path: Path, column: str, text: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column as float64; any value that is not a number is an error with a true count and example."""
    trimmed = pc.utf8_trim_whitespace(text)
    bad = pc.invert(pc.match_substring_regex(trimmed, NUMBER, ignore_case=True))
    count = pc.sum(bad).as_py() or 0
    if count:
        example = pc.filter(text, bad)[0].as_py()
        raise DataError(
            f"{path}: column {column!r} has {count} non-numeric value(s) (e.g. {example!r}); "
            "list it under data.columns.categorical if it is a category"
        )
    return pc.cast(trimmed, pa.float64())


def too_large_for_float32(path: Path, column: str, array: pa.ChunkedArray | pa.Array) -> None:
    """Refuse finite values beyond float32's range: they would become infinite when converted."""
    if not pa.types.is_floating(array.type) and not pa.types.is_integer(array.type):
        return
    values = pc.abs(pc.cast(array, pa.float64()))
    too_large = pc.and_(pc.is_finite(values), pc.greater(values, FLOAT32_MAX))
    count = pc.sum(too_large).as_py() or 0
    if count:
        example = pc.filter(array, too_large)[0].as_py()
        raise DataError(f"{path}: column {column!r} has {count} value(s) too large for float32 (e.g. {example!r}; "
                        f"the largest is about {FLOAT32_MAX:.3g}): rescale the column")


def no_known_labels(path: Path, column: str, labels: pa.ChunkedArray, mapping: dict[str, int]) -> DataError:
    """The error for a label column none of whose rows is in the cardinalities map."""
    text = pc.cast(labels, pa.string())
    present = pc.filter(text, pc.fill_null(pc.not_equal(text, ""), False))
    if not len(present):
        found = "it has no labels at all (every row is empty)"
    elif pc.all(pc.match_substring_regex(present, NUMBER)).as_py():
        found = f"it holds numbers such as {present[0].as_py()!r} (codes rather than labels?)"
    else:
        found = f"it holds values such as {present[0].as_py()!r}"
    known = ", ".join(map(repr, list(mapping)[:4])) + (", …" if len(mapping) > 4 else "")
    return DataError(
        f"{path}: categorical column {column!r}: no row has a label of the cardinalities map ({known}); {found}. "
        "The model would learn nothing from it: store the labels themselves (not numbers or codes), "
        "or fix the map in data.cardinalities_path"
    )
