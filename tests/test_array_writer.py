"""The streaming ``.npy`` writer behind extract and predict."""
import numpy as np
import pytest

from vaesae.engine.array_writer import WRITEBACK_EVERY_BYTES, ArrayFileWriter


def test_chunks_written_in_order_load_as_one_array(tmp_path):
    rows = WRITEBACK_EVERY_BYTES // (4 * 4) * 3 + 17
    expected = np.random.default_rng(0).standard_normal((rows, 4)).astype(np.float32)
    path = tmp_path / "out.npy"
    with ArrayFileWriter(path, rows, 4) as writer:
        for start in range(0, rows, 100_000):
            writer.append(expected[start:start + 100_000])
        writer.check_complete()
    np.testing.assert_array_equal(np.load(path), expected)


def test_float64_rows_are_stored_as_float32(tmp_path):
    path = tmp_path / "out.npy"
    with ArrayFileWriter(path, 2, 3) as writer:
        writer.append(np.arange(6, dtype=np.float64).reshape(2, 3))
    loaded = np.load(path)
    assert loaded.dtype == np.float32 and loaded.tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("rows", [np.zeros((2, 4)), np.zeros((5, 3)), np.zeros(3)])
def test_rows_that_do_not_fit_the_declared_shape_are_refused(tmp_path, rows):
    with ArrayFileWriter(tmp_path / "out.npy", 4, 3) as writer:
        with pytest.raises(ValueError, match="do not fit an array of shape"):
            writer.append(rows)


def test_missing_rows_are_reported(tmp_path):
    with ArrayFileWriter(tmp_path / "out.npy", 4, 3) as writer:
        writer.append(np.zeros((3, 3)))
        with pytest.raises(ValueError, match="3 rows were written to an array of shape"):
            writer.check_complete()
