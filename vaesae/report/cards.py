"""SAE feature cards: for the strongest features, the rows that activate them and what sets those rows apart.

Features are ranked by their total activation over the split (how much of the
reconstruction they carry). A feature's *strongest rows* are the 5% of rows on
which it is largest (at least ``top_rows``, only rows where it is active); they
are compared with all rows: numerical columns by the shift of their mean, in
standard deviations of the column, and categorical labels by their share and
lift (share among the strongest rows / share among all rows). A missing label
is a label of its own, ``(missing)``.

Traits are ranked by how much they distinguish the strongest rows
(``distinction``): the shift in standard deviations for a numerical column,
Cohen's h (``2 asin sqrt(share, strongest) - 2 asin sqrt(share, all)``, in
absolute value) for a label. The two are on one scale, and h does not inflate
small changes of rare labels the way a shift in standard deviations of a 0/1
indicator does. The one-line summary skips the falling label of a two-label
column: it only restates the rising one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vaesae.config.schema import ReportConfig
from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.report.features import Activations
from vaesae.report.model_view import ModelView
from vaesae.report.origin import SourceRows, find_source_rows

CARDS_FILE, ROWS_FILE, CONTRAST_FILE = "feature_cards.md", "feature_cards_rows.csv", "feature_cards_contrast.csv"
STRONG_SHARE = 0.05
SUMMARY_TRAITS, SUMMARY_MIN_DISTINCTION = 3, 0.5
LABELS_PER_COLUMN = 3
MAX_COLUMNS = 12
NUMBER_TEXT = r"-?[0-9.,]+[%×]?"
MISSING_LABEL = "(missing)"
CONTRAST_COLUMNS = ["column", "label", "strong", "population", "shift_sd", "lift", "distinction"]


@dataclass
class Population:
    """The rows the cards describe, in the columns a reader knows, and where they come from."""

    table: pd.DataFrame
    numerical: list[str]
    categorical: list[str]
    source: str


def population_for(view: ModelView, activations: Activations) -> Population:
    """Original rows when the embeddings came from a VAE run's extract, else the embedding dimensions."""
    source, reason = find_source_rows(view.data_path, view.rows)
    if source is not None:
        return original_population(source, activations.kept)
    embeddings = view.loader.tensors["embeddings"][activations.kept].numpy()
    name = view.restored.encoding.embeddings[0] if view.restored.encoding.embeddings else "dim"
    columns = [f"{name}_{i}" for i in range(embeddings.shape[1])]
    note = f"Original rows not found ({reason}); the cards show the embedding dimensions the SAE reads."
    return Population(pd.DataFrame(embeddings, columns=columns, index=activations.kept), columns, [], note)


def original_population(source: SourceRows, kept: np.ndarray) -> Population:
    note = f"Rows are shown in the columns of `{source.path}`, the table behind these embeddings (VAE run `{source.vae_run}`)."
    return Population(source.table.iloc[kept], source.numerical, source.categorical, note)


def ranked_features(activations: Activations, count: int) -> list[int]:
    """Live features with the largest total activation, strongest first."""
    order = [int(i) for i in np.argsort(-activations.totals, kind="stable") if activations.counts[i] > 0]
    return order[:count]


def strongest(values: np.ndarray, top_rows: int) -> np.ndarray:
    """Positions of the rows where ``values`` is largest: 5% of rows, at least ``top_rows``, active ones only."""
    size = min(int((values > 0).sum()), max(top_rows, math.ceil(STRONG_SHARE * values.size)))
    return np.argsort(-values, kind="stable")[:size]


def numerical_shift(strong: pd.DataFrame, population: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    rows = []
    for column in columns:
        spread = float(population[column].std(ddof=0)) or 1.0
        mean_strong, mean_all = float(strong[column].mean()), float(population[column].mean())
        shift = (mean_strong - mean_all) / spread
        rows.append({"column": column, "label": "", "strong": mean_strong, "population": mean_all,
                     "shift_sd": shift, "lift": math.nan, "distinction": abs(shift)})
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)


def labels_of(values: pd.Series) -> pd.Series:
    """Labels as text, an empty or missing one as ``(missing)``."""
    return values.astype(object).where(values.notna(), MISSING_LABEL).astype(str).replace("", MISSING_LABEL)


def cohens_h(share: float, reference: float) -> float:
    return abs(2 * math.asin(math.sqrt(share)) - 2 * math.asin(math.sqrt(reference)))


def categorical_lift(strong: pd.DataFrame, population: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    rows = []
    for column in columns:
        share_all = labels_of(population[column]).value_counts(normalize=True)
        share_strong = labels_of(strong[column]).value_counts(normalize=True).reindex(share_all.index, fill_value=0.0)
        for label, p_all in share_all.items():
            p_strong = float(share_strong[label])
            spread = math.sqrt(p_all * (1 - p_all)) or 1.0
            rows.append({"column": column, "label": label, "strong": p_strong, "population": float(p_all),
                         "shift_sd": (p_strong - p_all) / spread, "lift": p_strong / p_all,
                         "distinction": cohens_h(p_strong, float(p_all))})
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)


def contrast(population: Population, positions: np.ndarray) -> pd.DataFrame:
    strong = population.table.iloc[positions]
    parts = [numerical_shift(strong, population.table, population.numerical),
             categorical_lift(strong, population.table, population.categorical)]
    filled = [part for part in parts if len(part)]
    return pd.concat(filled, ignore_index=True) if filled else parts[0]


def without_complements(table: pd.DataFrame) -> pd.DataFrame:
    """Drop the falling label of every two-label column: its change is the rising label's, restated."""
    labels = table[table["label"] != ""]
    two_labels = labels.groupby("column")["label"].transform("size") == 2
    falling = labels["shift_sd"] < labels.groupby("column")["shift_sd"].transform("max")
    return table.drop(labels.index[two_labels & falling])


def summary_line(table: pd.DataFrame) -> str:
    """The few traits that distinguish the strongest rows most, e.g. ``merchant_type=travel (62% vs 9%)``."""
    traits = without_complements(table)
    notable = traits[traits["distinction"] >= SUMMARY_MIN_DISTINCTION]
    notable = notable.sort_values("distinction", ascending=False, kind="stable")[:SUMMARY_TRAITS]
    texts = [
        f"{r.column}={r.label} ({r.strong:.0%} vs {r.population:.0%})" if r.label
        else f"{r.column} {r.shift_sd:+.1f} SD (mean {number(r.strong)} vs {number(r.population)})"
        for r in notable.itertuples()
    ]
    return "; ".join(texts) if texts else f"no trait reaches a distinction of {SUMMARY_MIN_DISTINCTION}"


def number(value: float) -> str:
    """Four significant digits, without exponent notation for large values (``19,655``, not ``1.966e+04``)."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else number(float(value))
    return str(value).replace("|", "\\|")


def numeric_looking(values: pd.Series) -> bool:
    """Numbers, or texts such as ``61.0%`` and ``2.62×``: right-aligned in a table."""
    return pd.api.types.is_numeric_dtype(values) or bool(values.astype(str).str.fullmatch(NUMBER_TEXT).all())


def markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join(" ---: " if numeric_looking(frame[c]) else " --- " for c in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def shown_columns(table: pd.DataFrame) -> list[str]:
    """The columns a card lists, in data order: all of them, or the ``MAX_COLUMNS`` whose values shift most."""
    size = table.groupby("column", sort=False)["distinction"].max()
    keep = set(size.nlargest(MAX_COLUMNS).index)
    return [column for column in size.index if column in keep]


def contrast_tables(table: pd.DataFrame) -> list[str]:
    table = table[table["column"].isin(shown_columns(table))]
    numerical = table[table["label"] == ""]
    categorical = table[table["label"] != ""]
    categorical = categorical.sort_values(["column", "distinction"], ascending=[True, False], kind="stable")
    categorical = categorical.groupby("column", sort=False).head(LABELS_PER_COLUMN)
    parts = []
    if len(numerical):
        parts.append(markdown_table(numerical[["column", "strong", "population", "shift_sd"]].set_axis(
            ["numerical column", "mean, strongest rows", "mean, all rows", "shift (SD)"], axis=1)))
    if len(categorical):
        shown = categorical.assign(strong=categorical["strong"].map("{:.1%}".format),
                                   population=categorical["population"].map("{:.1%}".format),
                                   lift=categorical["lift"].map("{:.2f}×".format))
        parts.append(markdown_table(shown[["column", "label", "strong", "population", "lift"]].set_axis(
            ["categorical column", "label", "share, strongest rows", "share, all rows", "lift"], axis=1)))
    return parts


def top_rows_table(population: Population, feature: int, values: np.ndarray, shown: np.ndarray) -> pd.DataFrame:
    rows = population.table.iloc[shown]
    frame = pd.DataFrame({"feature": feature, "rank": np.arange(1, len(shown) + 1),
                          "row": rows.index.to_numpy(), "activation": values[shown]})
    return pd.concat([frame, rows[population.numerical + population.categorical].reset_index(drop=True)], axis=1)


def card(feature: int, activations: Activations, strong: np.ndarray, table: pd.DataFrame, top: pd.DataFrame) -> str:
    values = activations.values[:, feature]
    active = values[values > 0]
    rows = activations.values.shape[0]
    lines = [
        f"## Feature {feature}",
        "",
        f"Active on {activations.density[feature]:.1%} of rows; when active, mean activation {active.mean():.3g}, "
        f"largest {active.max():.3g}.",
        "",
        f"**Sets its strongest rows apart:** {summary_line(table)}",
        "",
        f"Its {len(strong):,} strongest rows compared with all {rows:,} rows:",
    ]
    columns = shown_columns(table)
    if len(columns) < table["column"].nunique():
        lines += ["", f"(The {len(columns)} of {table['column'].nunique()} columns that differ most; the CSV files have all.)"]
    for part in contrast_tables(table):
        lines += ["", part]
    lines += ["", f"Top {len(top)} rows (`row`: 0-based position in the data file):", "",
              markdown_table(top[["rank", "row", "activation", *columns]])]
    return "\n".join(lines)


def header(view: ModelView, activations: Activations, population: Population, features: list[int]) -> str:
    sampled = activations.values.shape[0] < activations.rows
    scope = f"a random {activations.values.shape[0]:,} of the {activations.rows:,} rows" if sampled else "all rows"
    return "\n".join([
        f"# SAE feature cards: {view.run_label}",
        "",
        f"The {len(features)} features with the largest total activation on the {view.describe()}; "
        f"rows ranked over {scope}. {population.source}",
        "",
        f"A feature's strongest rows are the {STRONG_SHARE:.0%} of rows where it is largest (only rows where it is "
        "active). Shift (SD): difference of means in standard deviations of the column over all rows. "
        "Lift: share among the strongest rows / share among all rows. Columns and labels are listed by how much "
        "they distinguish the strongest rows (the shift for a number, Cohen's h for a label's share).",
    ])


def write_feature_cards(activations: Activations, view: ModelView, options: ReportConfig, folder: Path) -> list[Path]:
    features = ranked_features(activations, options.top_features)
    if not features:
        return []
    population = population_for(view, activations)
    sections, tops, contrasts = [header(view, activations, population, features)], [], []
    for feature in features:
        values = activations.values[:, feature]
        strong = strongest(values, options.top_rows)
        table = contrast(population, strong)
        top = top_rows_table(population, feature, values, strong[:options.top_rows])
        sections.append(card(feature, activations, strong, table, top))
        tops.append(top)
        contrasts.append(table.assign(feature=feature))
    paths = folder / CARDS_FILE, folder / ROWS_FILE, folder / CONTRAST_FILE
    atomic_write_bytes(paths[0], ("\n\n".join(sections) + "\n").encode())
    atomic_write_bytes(paths[1], pd.concat(tops).to_csv(index=False).encode())
    atomic_write_bytes(paths[2], pd.concat(contrasts)[["feature", *CONTRAST_COLUMNS]].to_csv(index=False).encode())
    return list(paths)
