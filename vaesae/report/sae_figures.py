"""Every SAE picture: feature density, L0 per row and the feature cards, from one pass over the data."""
from __future__ import annotations

from pathlib import Path

from vaesae.config.schema import ReportConfig
from vaesae.report.cards import write_feature_cards
from vaesae.report.features import collect_activations, draw_density, draw_l0
from vaesae.report.model_view import ModelView


def draw_sae_figures(view: ModelView, options: ReportConfig, folder: Path) -> list[Path]:
    activations = collect_activations(view)
    drawn = [draw_density(activations, view, folder), draw_l0(activations, view, folder)]
    return drawn + write_feature_cards(activations, view, options, folder)
