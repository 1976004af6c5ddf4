"""The bundled demo dataset: generated on first use, cached, and writable to any folder.

``python -m vaesae.demo_data [DIR]`` writes ``train.csv``, ``val.csv``, ``test.csv``
and ``cardinalities.json`` to DIR (default ``data``), so the documented examples
run verbatim. The default config refers to the cached copy through the
``${vaesae_demo:NAME}`` resolver, so ``python -m vaesae`` needs no preparation.
The generator (pandas, pyarrow) is imported only when data must be written:
this module is loaded by every command, ``--help`` included.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

DEMO_VERSION = "v1"
FILES = {"train": "train.csv", "val": "val.csv", "test": "test.csv", "cardinalities": "cardinalities.json"}


def demo_dir() -> Path:
    """The cache folder: ``$VAESAE_DEMO_DIR`` or ``$XDG_CACHE_HOME/vaesae/demo-v1``."""
    if os.environ.get("VAESAE_DEMO_DIR"):
        return Path(os.environ["VAESAE_DEMO_DIR"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "vaesae" / f"demo-{DEMO_VERSION}"


def ensure_demo_data() -> Path:
    """The cached demo folder, generated once; concurrent jobs race safely (atomic rename)."""
    target = demo_dir()
    if all((target / name).is_file() for name in FILES.values()):
        return target
    from vaesae.data.demo import write_demo_data

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=target.parent))
    write_demo_data(staging)
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def demo_path(name: str) -> str:
    if name not in FILES:
        raise ValueError(f"unknown demo file {name!r}; known: {', '.join(FILES)}")
    return str(ensure_demo_data() / FILES[name])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the vaesae demo card-transaction data.")
    parser.add_argument("directory", nargs="?", default="data", help="output folder (default: data)")
    parser.add_argument("--rows", type=int, default=20000, help="training rows (val and test get a fifth each)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from vaesae.data.demo import write_demo_data

    paths = write_demo_data(args.directory, n_train=args.rows, n_val=args.rows // 5, n_test=args.rows // 5, seed=args.seed)
    for name, path in paths.items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
