"""The sweep picture reads well for 1 to 4 swept parameters and up to 50 jobs: no two labels overlap."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from vaesae.report.canvas import style
from vaesae.report.sweep import sweep_figure

PARAMETERS = {
    "train.loss.params.beta": lambda rng, n: np.geomspace(0.15, 4.0, n)[rng.permutation(n)],
    "model.params.latent_dim": lambda rng, n: rng.choice([4, 8, 16], n),
    "train.optimizer_config.learning_rate": lambda rng, n: rng.choice([1e-4, 1e-3, 1e-2], n),
    "model.params.hidden_dims": lambda rng, n: rng.choice(["[64,32]", "[128,64]"], n),
}


def results(keys: int, jobs: int) -> pd.DataFrame:
    rng = np.random.default_rng(keys * 100 + jobs)
    table = pd.DataFrame({"job": [f"{i}_job" for i in range(jobs)], "status": "completed", "metric": "val_elbo",
                          "mode": "min", "best_value": rng.normal(7, 0.3, jobs), "best_epoch": 3})
    for key in list(PARAMETERS)[:keys]:
        table[key] = PARAMETERS[key](rng, jobs)
    table.loc[0, ["status", "best_value"]] = ["failed", np.nan]
    return table


def label_boxes(figure) -> list[tuple[str, object]]:
    """Every text the drawn figure shows, with its box in pixels (tick labels only for ticks in view)."""
    renderer = figure.canvas.get_renderer()
    figure.draw(renderer)
    shown = set()
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            shown.update(id(tick.label1) for tick in axis._update_ticks())
    ticks = {id(t.label1) for axes in figure.axes for axis in (axes.xaxis, axes.yaxis)
             for t in axis.get_major_ticks() + axis.get_minor_ticks()}
    found = {id(t): t for t in figure.findobj(Text)}
    texts = [t for t in found.values() if t.get_visible() and t.get_text().strip() and (id(t) not in ticks or id(t) in shown)]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts]


@pytest.mark.parametrize("keys,jobs", [(1, 3), (2, 6), (2, 12), (3, 20), (4, 50)])
def test_no_two_labels_of_a_sweep_picture_overlap(keys, jobs):
    with style():
        figure, metric = sweep_figure(results(keys, jobs), "2026-12-01_03-33-01_ec9a6b")
        boxes = label_boxes(figure)
    assert metric == "val_elbo" and any(text.startswith("best: job") for text, _ in boxes)
    width, height = figure.bbox.width, figure.bbox.height
    for text, box in boxes:
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, f"{text!r} is cut off"
    overlapping = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]
    assert not overlapping, overlapping


def test_three_or_more_parameters_add_a_parallel_coordinates_view():
    with style():
        figure, _ = sweep_figure(results(3, 20), "demo")
    titles = [axes.get_title() for axes in figure.axes]
    assert any(title.startswith("all parameters at once") for title in titles)
    assert sum(1 for axes in figure.axes if axes.get_xlabel() in PARAMETERS) == 3


def test_jobs_sharing_a_grid_level_are_spread_apart_and_free_values_stay_where_they_are():
    from vaesae.report.sweep import positions

    x, labels = positions(pd.Series([4, 8, 4, 8, 4, 8]))
    assert labels == ["4", "8"] and len(np.unique(np.round(x, 6))) == 6 and np.all(np.abs(x - np.round(x)) < 0.2)
    free = np.geomspace(0.1, 4.0, 6)
    x, labels = positions(pd.Series(free))
    assert labels is None and np.allclose(x, free)
