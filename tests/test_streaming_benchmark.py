"""The streaming benchmark's data: generated a million rows at a time, in row groups, reused when present."""
from __future__ import annotations

import pyarrow.parquet as pq

from benchmarks.streaming import ROW_GROUP_ROWS, write_table
from vaesae.data.demo import DEMO_CATEGORICAL, DEMO_NUMERICAL


def test_the_table_is_written_in_row_groups_and_reused(tmp_path):
    path = write_table(tmp_path / "rows.parquet", 300_000)
    metadata = pq.read_metadata(path)
    assert metadata.num_rows == 300_000
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [ROW_GROUP_ROWS] * 2 + [300_000 - 2 * ROW_GROUP_ROWS]
    assert set(DEMO_NUMERICAL + DEMO_CATEGORICAL) <= set(metadata.schema.to_arrow_schema().names)
    written = path.stat().st_mtime_ns
    assert write_table(path, 300_000) == path and path.stat().st_mtime_ns == written
