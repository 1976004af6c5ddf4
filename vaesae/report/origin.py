"""Finding the original table rows behind an embeddings file written by ``task=extract``.

An SAE is trained on embeddings; its features only mean something to a reader
in the columns the VAE saw. ``task=extract`` leaves ``config.extract.yaml`` in
the VAE run folder, naming for each split the table it read (``data_path``) and
the embeddings file it wrote (``output``), row for row. The folder holding the
embeddings and the folders above it are searched for that file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vaesae.config.schema import SPLITS
from vaesae.data.tables import read_table
from vaesae.errors import VaesaeError
from vaesae.report.run_folder import locate, read_yaml

EXTRACT_CONFIG = "config.extract.yaml"
SEARCH_DEPTH = 3


@dataclass
class SourceRows:
    """The original rows, one per embedding row, in the VAE's numerical and categorical columns."""

    table: pd.DataFrame
    path: Path
    vae_run: Path
    numerical: list[str]
    categorical: list[str]


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def extract_config_for(embeddings: Path) -> tuple[Path, dict, str] | None:
    """The extract config that wrote ``embeddings``: (its folder, its content, which split)."""
    for folder in embeddings.resolve().parents[:SEARCH_DEPTH]:
        config_path = folder / EXTRACT_CONFIG
        if not config_path.is_file():
            continue
        config = read_yaml(config_path)
        for split in SPLITS:
            output = (config.get(split) or {}).get("output")
            if output and same_file(locate(output, folder), embeddings):
                return folder, config, split
    return None


def find_source_rows(embeddings: Path, rows: int) -> tuple[SourceRows | None, str]:
    """The original rows behind ``embeddings`` (``rows`` of them), or None and the reason they were not found."""
    found = extract_config_for(embeddings)
    if found is None:
        return None, f"no {EXTRACT_CONFIG} naming {embeddings} as an output was found beside it or in the folders above"
    folder, config, split = found
    columns = (config.get("data") or {}).get("columns") or {}
    numerical, categorical = list(columns.get("numerical") or []), list(columns.get("categorical") or [])
    path = locate(config[split]["data_path"], folder)
    try:
        table = read_table(path, numerical + categorical, categorical).to_pandas()
    except (OSError, VaesaeError) as exc:
        return None, f"the original table {path} (named in {folder / EXTRACT_CONFIG}) cannot be read: {exc}"
    if len(table) != rows:
        return None, f"the original table {path} has {len(table):,} rows but the embeddings have {rows:,}"
    return SourceRows(table, path, folder, numerical, categorical), ""
