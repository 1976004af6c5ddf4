"""Reading CSV and Parquet files into Arrow tables, with errors that name file and column."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from vaesae.data.input_checks import block_too_small, delimiter_hint, parse_numbers, repeated_columns, too_large_for_float32
from vaesae.data.parallel import on_all_cores
from vaesae.errors import DataError

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


def _csv_header(path: Path) -> list[str]:
    """The header row; a UTF-8 byte-order mark is read as the encoding marker it is, not as part of a name."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: the header is not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8") from None


def _check_columns(path: Path, available: list[str], wanted: list[str]) -> None:
    repeated_columns(path, available, wanted)
    missing = [c for c in wanted if c not in available]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))}; the file has: {', '.join(available)}"
            f"{delimiter_hint(available)}"
        )


def _read_csv(path: Path, columns: list[str], string_columns: list[str]) -> pa.Table:
    """Read a CSV with every column's type fixed: numbers as float64, labels as text, then dictionary-encoded.

    The labels' UTF-8 is checked once per distinct label, in the dictionary,
    rather than once per row by the reader. A column that is not plain numbers
    (text, booleans), or labels that are not UTF-8, fail this fast path; the
    file is then read with inferred types, so the column checks can take it or
    say what is wrong with it.
    """
    typed = pa_csv.ConvertOptions(
        include_columns=columns, column_types={c: pa.string() if c in string_columns else pa.float64() for c in columns},
        check_utf8=False,
    )
    try:
        return _utf8_checked(_with_dictionary_labels(pa_csv.read_csv(path, convert_options=typed), string_columns),
                             string_columns)
    except pa.ArrowInvalid:
        return _with_dictionary_labels(_read_csv_inferred(path, columns, string_columns), string_columns)


def _utf8_checked(table: pa.Table, string_columns: list[str]) -> pa.Table:
    """``table``, once the shared dictionary of each label column is found to be valid UTF-8 (``ArrowInvalid`` if not)."""
    for column in string_columns:
        if table.column(column).num_chunks:
            table.column(column).chunk(0).dictionary.validate(full=True)
    return table


def _read_csv_inferred(path: Path, columns: list[str], string_columns: list[str]) -> pa.Table:
    inferred = pa_csv.ConvertOptions(include_columns=columns, column_types={c: pa.string() for c in string_columns})
    try:
        return pa_csv.read_csv(path, convert_options=inferred)
    except pa.ArrowInvalid as exc:
        raise block_too_small(path, exc, pa_csv.ReadOptions().block_size) or DataError(
            f"{path}: cannot parse CSV: {exc}"
        ) from None


def _with_dictionary_labels(table: pa.Table, string_columns: list[str]) -> pa.Table:
    """``table`` with its label columns dictionary-encoded, each column's text freed as soon as it is encoded.

    Labels held as dictionary indices take a fraction of the memory of the
    strings, and their codes are then looked up once per distinct label.
    """
    for column in string_columns:
        table = table.set_column(table.schema.get_field_index(column), column, shared_dictionary(table.column(column)))
    return table


def shared_dictionary(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column dictionary-encoded, every chunk with the same dictionary: the labels in order of first sight.

    Each chunk is looked up in the labels of the first chunk, one hash probe a
    row, the chunks side by side; only a chunk with labels not seen before
    adds them and is looked up again. Arrow's CSV reader can encode while
    parsing, but that costs more, and gives each block a dictionary of its own.
    """
    dictionary = pc.unique(text.chunk(0)).drop_null() if text.num_chunks else pa.array([], text.type)
    indices = on_all_cores(lambda chunk: pc.index_in(chunk, value_set=dictionary), text.chunks)
    for position, chunk in enumerate(text.chunks):
        if indices[position].null_count > chunk.null_count:
            dictionary = _with_unseen_labels(dictionary, chunk)
            indices[position] = pc.index_in(chunk, value_set=dictionary)
    return pa.chunked_array([pa.DictionaryArray.from_arrays(found, dictionary) for found in indices],
                            pa.dictionary(pa.int32(), text.type))


def _with_unseen_labels(dictionary: pa.Array, chunk: pa.Array) -> pa.Array:
    labels = pc.unique(chunk).drop_null()
    return pa.concat_arrays([dictionary, labels.filter(pc.invert(pc.is_in(labels, value_set=dictionary)))])


def _read_parquet(path: Path, columns: list[str], string_columns: list[str]) -> pa.Table:
    try:
        _check_columns(path, pq.read_schema(path).names, columns)
        return pq.read_table(path, columns=columns, read_dictionary=string_columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read it as Parquet ({str(exc).splitlines()[0]})") from None


def read_table(path: Path, columns: list[str], string_columns: list[str]) -> pa.Table:
    """Read ``columns`` of a CSV or Parquet file; ``string_columns`` are kept as text.

    Text columns are read dictionary-encoded: a label column has few distinct
    values, and codes are then looked up once per distinct label (for Parquet
    from the file's own dictionary pages) instead of once per row.
    """
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    if suffix in PARQUET_SUFFIXES:
        table = _read_parquet(path, columns, string_columns)
    elif suffix in CSV_SUFFIXES:
        _check_columns(path, _csv_header(path), columns)
        table = _read_csv(path, columns, string_columns)
    else:
        raise DataError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
    if table.num_rows == 0:
        raise DataError(f"{path}: file has no data rows")
    return table


def release_freed_memory() -> None:
    """Return memory Arrow has freed to the operating system.

    Arrow's allocator keeps freed blocks for reuse, but the tensors built from
    a table are allocated by NumPy, so blocks kept after the table is gone
    would only add to the process's peak memory.
    """
    pa.default_memory_pool().release_unused()


def numeric_column(path: Path, table: pa.Table, column: str) -> np.ndarray:
    """A numerical column as float32; non-numeric, missing, infinite or too large values are errors."""
    array = table.column(column)
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_boolean(array.type)):
        array = parse_numbers(path, column, pc.cast(array, pa.string()))
    values = _float32(array)
    bad_rows = len(values) - int(np.count_nonzero(np.isfinite(values)))
    if bad_rows:
        too_large_for_float32(path, column, array)
        raise DataError(f"{path}: column {column!r} has {bad_rows} missing, NaN or infinite value(s) in {len(values)} rows")
    return values


def _float32(array: pa.ChunkedArray) -> np.ndarray:
    """``array`` as one float32 array, missing values as NaN, each chunk converted straight into its place.

    Float64 chunks (what the CSV reader gives) are narrowed by NumPy from a
    zero-copy view, so no float32 copy of the column is made in Arrow first.
    Values beyond float32's range become infinite, as in Arrow's unchecked
    cast, for the caller to refuse.
    """
    if array.type != pa.float64():
        array = pc.cast(array, pa.float32(), safe=False)
    values = np.empty(len(array), dtype=np.float32)
    start = 0
    with np.errstate(over="ignore"):
        for chunk in array.chunks:
            values[start:start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
            start += len(chunk)
    return values


def text_column(table: pa.Table, column: str) -> pa.ChunkedArray:
    """A label column as text, dictionary-encoded text left as it is."""
    array = table.column(column)
    if pa.types.is_dictionary(array.type) or pa.types.is_string(array.type):
        return array
    return pc.cast(array, pa.string())


def list_column(path: Path, table: pa.Table, column: str) -> np.ndarray:
    """A list-of-numbers column as a 2-D float32 array; rows must have equal length."""
    array = table.column(column).combine_chunks()
    if not (pa.types.is_list(array.type) or pa.types.is_large_list(array.type) or pa.types.is_fixed_size_list(array.type)):
        raise DataError(f"{path}: column {column!r} must hold a list of numbers per row, found {array.type}")
    lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
    if len(set(lengths.tolist())) > 1:
        raise DataError(f"{path}: column {column!r} rows have different lengths ({sorted(set(lengths.tolist()))[:5]})")
    values = array.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    return values.reshape(len(array), -1)
