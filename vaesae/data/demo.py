"""Synthetic card transactions for demos and tests: deterministic, offline, learnable.

Every row is drawn from a small generative story. A hidden customer segment
(routine local shopper, online shopper, traveller, night owl, cash-and-bills
user) is drawn first and never written out. The observed columns then follow
from it in order, each one conditioned on what came before:

* ``channel`` (online, store, mobile, atm) depends on the segment;
* ``merchant_type`` depends on segment and channel (no fuel bought online,
  ATMs mostly sit under ``service``);
* ``country_code`` is ``US`` (home) for most rows; foreign countries are more
  likely for travellers, for travel merchants and for online purchases;
* ``transaction_hour`` follows a daily pattern that is the product of a
  merchant pattern (restaurants at lunch and dinner, fuel at commute times,
  gambling late), a channel pattern (stores closed at night, online busy in
  the late evening) and a segment pattern (night owls after midnight);
* ``log_amount_normalized`` is the log of the amount in dollars, normal around
  a mean set by merchant (travel and electronics high, restaurants low),
  segment, channel and a foreign surcharge, then standardised with the exact
  population mean and standard deviation of that mixture, so it has mean 0 and
  standard deviation 1 over the population (not per file);
* ``distance_km`` is how far from home the card was used: log-normal around a
  channel median (near zero online, where the device is at home), stretched
  for travel or fuel merchants, plus roughly the distance to the country for
  card-present use abroad, hence heavy tailed (capped at 20,000 km).

A few percent of the categorical labels and of the hours are then replaced by
uniform draws, so no column is a function of the others. The columns share the
segment as a common cause and depend on each other directly, so a model that
finds a low-dimensional summary of a row (essentially the segment and merchant)
reconstructs it far better than one treating the columns independently.

Values are rounded: ``log_amount_normalized`` to 4 decimals, ``distance_km`` to
3 decimals, and ``transaction_hour`` is a whole number 0..23 stored as float64
so that all numerical columns share one dtype. Categorical columns hold string
labels; ``demo_cardinalities`` maps them to codes. A seed fixes every value.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

DEMO_NUMERICAL = ["log_amount_normalized", "distance_km", "transaction_hour"]
DEMO_CATEGORICAL = ["channel", "merchant_type", "country_code"]

CHANNELS = ("online", "store", "mobile", "atm")
MERCHANT_TYPES = ("grocery", "restaurant", "retail", "travel", "fuel", "electronics", "service", "gambling")
COUNTRIES = ("US", "CA", "MX", "GB", "FR", "DE", "JP")
_LABELS = dict(zip(DEMO_CATEGORICAL, (CHANNELS, MERCHANT_TYPES, COUNTRIES)))

_LABEL_NOISE = 0.03
_HOUR_NOISE = 0.02
_HOURS = np.arange(24)


def _normalise(weights: np.ndarray) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    return weights / weights.sum(axis=-1, keepdims=True)


def _daily(floor: float, *peaks: tuple[float, float, float]) -> np.ndarray:
    """Relative activity per hour: ``floor`` plus circular bumps (centre, width, height)."""
    profile = np.full(24, floor)
    for centre, width, height in peaks:
        gap = np.abs(_HOURS - centre)
        gap = np.minimum(gap, 24 - gap)
        profile += height * np.exp(-0.5 * (gap / width) ** 2)
    return profile


# Segments: routine local, online shopper, traveller, night owl, cash and bills.
_SEGMENT_P = _normalise([0.34, 0.22, 0.12, 0.17, 0.15])

# P(channel | segment); columns follow CHANNELS.
_CHANNEL_P = _normalise([
    [0.08, 0.62, 0.25, 0.05],
    [0.62, 0.10, 0.26, 0.02],
    [0.30, 0.45, 0.17, 0.08],
    [0.15, 0.25, 0.55, 0.05],
    [0.05, 0.40, 0.05, 0.50],
])

# P(merchant | segment, channel) is proportional to segment taste times channel fit.
_MERCHANT_BY_SEGMENT = np.array([
    [0.30, 0.18, 0.14, 0.01, 0.22, 0.03, 0.11, 0.01],
    [0.08, 0.06, 0.38, 0.05, 0.02, 0.24, 0.15, 0.02],
    [0.06, 0.26, 0.12, 0.38, 0.06, 0.03, 0.08, 0.01],
    [0.08, 0.36, 0.14, 0.02, 0.06, 0.06, 0.08, 0.20],
    [0.28, 0.08, 0.08, 0.01, 0.10, 0.02, 0.40, 0.03],
])
_MERCHANT_BY_CHANNEL = np.array([
    [0.30, 0.30, 1.50, 1.50, 0.02, 1.50, 1.00, 1.00],
    [1.50, 1.20, 1.00, 0.40, 1.50, 0.80, 0.70, 0.50],
    [1.00, 1.50, 0.80, 0.60, 1.00, 0.60, 0.80, 1.20],
    [0.05, 0.02, 0.02, 0.02, 0.05, 0.02, 3.00, 0.40],
])
_MERCHANT_P = _normalise(_MERCHANT_BY_SEGMENT[:, None, :] * _MERCHANT_BY_CHANNEL[None, :, :])

# P(country | segment, channel, merchant): segment habits, foreign odds scaled by channel and merchant.
_COUNTRY_BY_SEGMENT = np.array([
    [0.970, 0.010, 0.010, 0.004, 0.003, 0.002, 0.001],
    [0.800, 0.030, 0.010, 0.060, 0.030, 0.040, 0.030],
    [0.650, 0.070, 0.080, 0.060, 0.060, 0.040, 0.040],
    [0.920, 0.020, 0.030, 0.010, 0.010, 0.005, 0.005],
    [0.970, 0.010, 0.010, 0.003, 0.003, 0.002, 0.002],
])
_FOREIGN_BY_CHANNEL = np.array([1.6, 1.0, 0.8, 1.0])
_FOREIGN_BY_MERCHANT = np.array([0.5, 1.2, 1.0, 3.0, 0.5, 1.3, 0.7, 1.0])
_IS_FOREIGN = np.array([c != "US" for c in COUNTRIES])
_COUNTRY_P = _normalise(
    _COUNTRY_BY_SEGMENT[:, None, None, :]
    * np.where(_IS_FOREIGN, (_FOREIGN_BY_CHANNEL[:, None] * _FOREIGN_BY_MERCHANT[None, :])[..., None], 1.0)
)

# P(hour | segment, channel, merchant) is proportional to the product of three daily patterns.
_HOUR_BY_MERCHANT = np.stack([
    _daily(0.03, (11, 2.5, 1.0), (18, 2.0, 1.2)),
    _daily(0.03, (12.5, 1.2, 1.0), (19.5, 1.5, 1.6)),
    _daily(0.03, (14, 3.0, 1.0), (19, 2.0, 0.5)),
    _daily(0.03, (10, 3.0, 1.0), (20, 3.0, 0.5)),
    _daily(0.03, (8, 1.5, 1.0), (17.5, 1.5, 1.0)),
    _daily(0.03, (15, 3.0, 1.0), (21, 2.0, 0.6)),
    _daily(0.03, (10, 2.5, 1.0), (15, 2.5, 0.7)),
    _daily(0.03, (22, 2.5, 1.0), (1, 2.0, 0.7)),
])
_HOUR_BY_CHANNEL = np.stack([
    _daily(1.0, (22, 3.0, 2.5), (1, 2.5, 1.5)),
    _daily(0.05, (13, 4.5, 1.0)),
    _daily(0.3, (19, 3.0, 1.0)),
    _daily(0.2, (12, 5.0, 1.0)),
])
_HOUR_BY_SEGMENT = np.stack([
    _daily(1.0, (9, 3.0, 0.3)),
    _daily(1.0, (21, 3.0, 0.5)),
    _daily(1.0),
    _daily(0.3, (23, 3.0, 1.5), (2, 2.0, 1.0)),
    _daily(1.0, (11, 3.0, 0.5)),
])
_HOUR_P = _normalise(
    _HOUR_BY_SEGMENT[:, None, None, :] * _HOUR_BY_CHANNEL[None, :, None, :] * _HOUR_BY_MERCHANT[None, None, :, :]
)

# log(amount in dollars) ~ Normal(mean, _AMOUNT_SIGMA[merchant]).
_AMOUNT_MEAN = (
    np.log([40.0, 22.0, 55.0, 380.0, 45.0, 260.0, 90.0, 60.0])[None, None, :, None]
    + np.array([0.0, 0.1, 0.35, -0.2, -0.1])[:, None, None, None]
    + np.array([0.05, 0.0, -0.1, 0.3])[None, :, None, None]
    + 0.15 * _IS_FOREIGN[None, None, None, :]
)
_AMOUNT_SIGMA = np.array([0.55, 0.5, 0.8, 0.7, 0.35, 0.75, 0.7, 0.9])

# Distance from home: local log-normal per channel, merchant stretch and country offset
# apply to card-present use only (mobility 0 online).
_DISTANCE_LOG_MEDIAN = np.log([0.05, 3.0, 2.0, 1.5])
_DISTANCE_SIGMA = np.array([1.0, 1.0, 1.1, 0.9])
_MOBILITY = np.array([0.0, 1.0, 1.0, 1.0])
_DISTANCE_BY_MERCHANT = np.array([-0.4, 0.2, 0.3, 2.0, 0.8, 0.5, 0.0, 1.2])
_COUNTRY_KM = np.array([0.0, 1100.0, 2300.0, 5600.0, 6200.0, 6700.0, 10100.0])
_MAX_KM = 20_000.0


def _population_amount_scale() -> tuple[float, float]:
    """Exact mean and standard deviation of log amount over the whole mixture."""
    joint = (
        _SEGMENT_P[:, None, None, None]
        * _CHANNEL_P[:, :, None, None]
        * _MERCHANT_P[:, :, :, None]
        * _COUNTRY_P
    )
    mean = float((joint * _AMOUNT_MEAN).sum())
    second = float((joint * (_AMOUNT_MEAN**2 + _AMOUNT_SIGMA[None, None, :, None] ** 2)).sum())
    return mean, float(np.sqrt(second - mean**2))


_AMOUNT_CENTRE, _AMOUNT_SCALE = _population_amount_scale()


def _draw(probabilities: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row from row ``group`` of a (groups, k) probability table.

    Each row's cumulative distribution is shifted by its group index and all rows are
    concatenated into one sorted array, so a single ``searchsorted`` serves every group.
    """
    table = probabilities.reshape(-1, probabilities.shape[-1])
    groups, k = table.shape
    cdf = np.cumsum(table, axis=1)
    cdf /= cdf[:, -1:]
    stacked = (cdf + np.arange(groups)[:, None]).ravel()
    picks = np.searchsorted(stacked, group + rng.random(group.size), side="right") - group * k
    return np.minimum(picks, k - 1)


def _corrupt(codes: np.ndarray, k: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    return np.where(rng.random(codes.size) < rate, rng.integers(0, k, codes.size), codes)


def demo_cardinalities() -> dict[str, dict[str, int]]:
    """``{column: {label: code}}`` for the categorical demo columns, codes 0..k-1."""
    return {column: {label: code for code, label in enumerate(labels)} for column, labels in _LABELS.items()}


def generate_transactions(n_rows: int, seed: int) -> pd.DataFrame:
    """``n_rows`` transactions, columns ``DEMO_NUMERICAL + DEMO_CATEGORICAL``; same seed, same frame."""
    if n_rows < 0:
        raise ValueError(f"n_rows must be non-negative, got {n_rows}")
    rng = np.random.default_rng(seed)
    segment = _draw(_SEGMENT_P, np.zeros(n_rows, dtype=np.int64), rng)
    channel = _draw(_CHANNEL_P, segment, rng)
    merchant = _draw(_MERCHANT_P, segment * len(CHANNELS) + channel, rng)
    context = (segment * len(CHANNELS) + channel) * len(MERCHANT_TYPES) + merchant
    country = _draw(_COUNTRY_P, context, rng)
    hour = _corrupt(_draw(_HOUR_P, context, rng), 24, _HOUR_NOISE, rng)

    log_amount = _AMOUNT_MEAN[segment, channel, merchant, country] + _AMOUNT_SIGMA[merchant] * rng.standard_normal(n_rows)
    mobility = _MOBILITY[channel]
    local_km = np.exp(
        _DISTANCE_LOG_MEDIAN[channel]
        + mobility * _DISTANCE_BY_MERCHANT[merchant]
        + _DISTANCE_SIGMA[channel] * rng.standard_normal(n_rows)
    )
    abroad_km = mobility * _COUNTRY_KM[country] * np.exp(0.25 * rng.standard_normal(n_rows))

    codes = {
        "channel": _corrupt(channel, len(CHANNELS), _LABEL_NOISE, rng),
        "merchant_type": _corrupt(merchant, len(MERCHANT_TYPES), _LABEL_NOISE, rng),
        "country_code": _corrupt(country, len(COUNTRIES), _LABEL_NOISE, rng),
    }
    frame = {
        "log_amount_normalized": np.round((log_amount - _AMOUNT_CENTRE) / _AMOUNT_SCALE, 4),
        "distance_km": np.round(np.minimum(local_km + abroad_km, _MAX_KM), 3),
        "transaction_hour": hour.astype(np.float64),
    }
    for column, labels in _LABELS.items():
        frame[column] = np.asarray(labels, dtype=object)[codes[column]]
    return pd.DataFrame(frame, columns=DEMO_NUMERICAL + DEMO_CATEGORICAL)


def write_demo_data(
    directory: str | Path,
    n_train: int = 20000,
    n_val: int = 4000,
    n_test: int = 4000,
    seed: int = 0,
) -> dict[str, Path]:
    """Write train/val/test CSVs and ``cardinalities.json`` into ``directory``; return their paths.

    Each split draws from its own seed derived from ``seed``, so the splits are
    independent samples of the same population and reruns are byte-identical.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for index, (split, n_rows) in enumerate((("train", n_train), ("val", n_val), ("test", n_test))):
        split_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
        paths[split] = directory / f"{split}.csv"
        generate_transactions(n_rows, split_seed).to_csv(paths[split], index=False, lineterminator="\n")
    paths["cardinalities"] = directory / "cardinalities.json"
    paths["cardinalities"].write_text(json.dumps(demo_cardinalities(), indent=2) + "\n", encoding="utf-8")
    return paths
