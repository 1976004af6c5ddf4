"""VAE pictures: how much each latent dimension is used, the latent space in 2-D, reconstruction per column."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaesae.config.schema import ReportConfig
from vaesae.data.encoding import ColumnEncoding
from vaesae.models.vae import ACTIVE_UNIT_THRESHOLD
from vaesae.report.canvas import EM, HIGHLIGHT, MUTED, Margins, panel_grid, save, text_width, under_panel
from vaesae.report.model_view import ModelView

KL_FILE, PCA_FILE, RECONSTRUCTION_FILE = "vae_latent_kl.png", "vae_latent_pca.png", "vae_reconstruction.png"
ACTIVE_COLOR = "#1f77b4"
MAX_POINTS = 10_000
MAX_LEGEND = 9
TAB10_GREY = 7
KL_MARGINS = Margins(top=5.0, wspace=7.0)  # two-line panel titles under the suptitle
PCA_MARGINS = Margins(top=6.0, left=5.5)  # a two-line suptitle above the panel title


@dataclass
class Posterior:
    """Posterior parameters of every row of the split, with the model's quality metrics and the row labels."""

    mu: np.ndarray
    logvar: np.ndarray
    categorical: np.ndarray
    quality: dict[str, float]

    @property
    def kl_per_dimension(self) -> np.ndarray:
        """Mean over rows of KL(q(z_j|x) || N(0, 1)), in nats; the dimensions sum to the logged ``kl_loss``."""
        return 0.5 * (self.mu**2 + np.exp(self.logvar) - 1.0 - self.logvar).mean(axis=0)

    @property
    def mu_variance(self) -> np.ndarray:
        return self.mu.var(axis=0)

    @property
    def active(self) -> np.ndarray:
        """Active units as the VAE counts them: the posterior mean varies across rows."""
        return self.mu_variance > ACTIVE_UNIT_THRESHOLD


def collect_posterior(view: ModelView) -> Posterior:
    quality = view.model.metric_accumulator()

    def keep(batch, output):
        quality.update(batch, output)
        codes = batch.get("categorical")
        return (
            output["mu"].double().cpu().numpy(),
            output["logvar"].double().cpu().numpy(),
            codes.cpu().numpy() if codes is not None else np.zeros((len(output["mu"]), 0), np.int64),
        )

    mu, logvar, codes = (np.concatenate(parts) for parts in zip(*view.outputs(keep)))
    return Posterior(mu, logvar, codes, quality.compute())


def draw_kl(posterior: Posterior, view: ModelView, folder: Path) -> Path:
    kl, variance, active = posterior.kl_per_dimension, posterior.mu_variance, posterior.active
    dims = np.arange(kl.size)
    colors = np.where(active, ACTIVE_COLOR, MUTED)
    figure, ((left, right),) = panel_grid(max(9.0, 0.45 * kl.size + 4), 4.0, 1, 2, KL_MARGINS)
    left.bar(dims, kl, color=colors)
    left.set_title(f"KL per dimension\n(total {kl.sum():.3g} nats)")
    left.set_ylabel("KL to the prior (nats, mean per row)")
    right.bar(dims, np.maximum(variance, 1e-12), color=colors)
    right.axhline(ACTIVE_UNIT_THRESHOLD, color=HIGHLIGHT, linestyle="--")
    right.set_yscale("log")
    right.set_title(f"variance of μ across rows\n(dashed line: active above {ACTIVE_UNIT_THRESHOLD})")
    right.set_ylabel("Var[μ] (log scale)")
    for axes in (left, right):
        axes.set_xlabel("latent dimension (grey: inactive)")
        axes.set_xticks(dims if kl.size <= 32 else dims[:: -(-kl.size // 32)])
    figure.suptitle(f"Latent usage: {int(active.sum())} of {kl.size} dimensions active ({view.describe()})")
    return save(figure, folder / KL_FILE)


def principal_components(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows projected on the first two principal axes, and each axis' share of the variance."""
    centred = mu - mu.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    share = singular**2 / max(float((singular**2).sum()), 1e-300)
    projected = centred @ axes[:2].T
    if projected.shape[1] < 2:
        projected, share = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1]))), np.pad(share, (0, 1))
    return projected, share[:2]


def color_column(encoding: ColumnEncoding, options: ReportConfig) -> str | None:
    """The configured categorical column, else the first one; None for a model without categorical columns."""
    if options.color_by in encoding.categorical:
        return options.color_by
    return encoding.categorical[0] if encoding.categorical else None


def scatter_groups(axes, points: np.ndarray, codes: np.ndarray, labels: list[str], column: str):
    """One colour per frequent label (the rest grey), points drawn in random order so no group hides another; the legend."""
    import matplotlib

    counts = np.bincount(codes, minlength=len(labels))
    ranked = [code for code in np.argsort(-counts) if counts[code] > 0]
    shown = ranked[:MAX_LEGEND] if len(ranked) > MAX_LEGEND + 1 else ranked
    palette = [color for i, color in enumerate(matplotlib.colormaps["tab10"].colors) if i != TAB10_GREY]
    color_of = {code: palette[i % len(palette)] for i, code in enumerate(shown)}
    colors = np.array([color_of.get(code, MUTED) for code in codes], dtype=object)
    axes.scatter(points[:, 0], points[:, 1], c=list(colors), s=6, alpha=0.6, linewidths=0)
    handles = [matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=color_of[code],
                                       label=f"{labels[code]} ({counts[code] / codes.size:.0%})") for code in shown]
    rest = codes.size - sum(counts[code] for code in shown)
    if rest:
        handles.append(matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=MUTED,
                                               label=f"other ({rest / codes.size:.0%})"))
    return axes.legend(handles=handles, title=column, loc="center left", bbox_to_anchor=(1.01, 0.5), markerscale=1.5)


def draw_pca(posterior: Posterior, view: ModelView, options: ReportConfig, folder: Path) -> Path:
    projected, share = principal_components(posterior.mu)
    sample = np.random.default_rng(0).permutation(len(projected))[:MAX_POINTS]
    encoding = view.restored.encoding
    column = color_column(encoding, options)
    figure, ((axes,),) = panel_grid(8.0, 5.6, 1, 1, PCA_MARGINS)
    if column is None:
        axes.scatter(projected[sample, 0], projected[sample, 1], s=6, alpha=0.6, linewidths=0, color=ACTIVE_COLOR)
    else:
        codes = posterior.categorical[sample, encoding.categorical.index(column)]
        legend = scatter_groups(axes, projected[sample], codes, encoding.labels(column), column)
        make_room_right(figure, legend)
    axes.set_xlabel(f"PC1 ({share[0]:.0%} of latent variance)")
    axes.set_ylabel(f"PC2 ({share[1]:.0%} of latent variance)")
    shown = f"a random {len(sample):,} of {len(projected):,} rows" if len(sample) < len(projected) else "every row"
    colored = f", coloured by {column}" if column else ""
    axes.set_title(f"{shown} shown{colored}", fontsize=9)
    figure.suptitle(f"Latent space: posterior means μ on their first two principal components\n({view.describe()})")
    return save(figure, folder / PCA_FILE)


def make_room_right(figure, legend) -> None:
    """Narrow the panel so ``legend``, anchored just right of it (x = 1.01 of the panel), fits in the figure."""
    width, left = figure.get_figwidth(), figure.subplotpars.left * figure.get_figwidth()
    legend_width = legend.get_window_extent(figure.canvas.get_renderer()).width / figure.dpi
    right = max((width - legend_width - EM + 0.01 * left) / 1.01, left + width / 3)  # very long labels: the panel keeps a third
    figure.subplots_adjust(right=right / width)


def majority_share(codes: np.ndarray) -> np.ndarray:
    """Per column, the accuracy of always predicting the most frequent label."""
    return np.array([np.bincount(column).max() / column.size for column in codes.T]) if codes.size else np.empty(0)


def draw_reconstruction(posterior: Posterior, view: ModelView, folder: Path) -> Path | None:
    encoding = view.restored.encoding
    panels = [kind for kind, columns in (("numerical", encoding.numerical), ("categorical", encoding.categorical)) if columns]
    if not panels:
        return None
    names = [encoding.numerical if kind == "numerical" else encoding.categorical for kind in panels]
    margins = Margins(left=text_width(names[0]) + 1.5, wspace=text_width(names[-1]) + 2.5, top=4.0, bottom=6.5)
    figure, grid = panel_grid(5.0 * len(panels) + 1, 4.2, 1, len(panels), margins)
    for axes, kind in zip(grid[0], panels):
        if kind == "numerical":
            draw_rmse(axes, posterior.quality, encoding)
        else:
            draw_accuracy(axes, posterior.quality, encoding, majority_share(posterior.categorical))
    figure.suptitle(f"Reconstruction quality per column ({view.describe()})")
    return save(figure, folder / RECONSTRUCTION_FILE)


def draw_rmse(axes, quality: dict[str, float], encoding: ColumnEncoding) -> None:
    rmse = np.array([quality[f"rmse_{c}"] for c in encoding.numerical])
    relative = rmse / np.asarray(encoding.stds)
    positions = np.arange(rmse.size)
    bars = axes.barh(positions, relative, color=ACTIVE_COLOR)
    axes.bar_label(bars, labels=[f"RMSE {value:.3g}" for value in rmse], padding=3, fontsize=8)
    axes.axvline(1.0, color=HIGHLIGHT, linestyle="--", label="predicting the mean (1 SD)")
    axes.set_yticks(positions, encoding.numerical)
    axes.invert_yaxis()
    axes.set_xlim(0, max(1.25, float(relative.max()) * 1.35))
    axes.set_xlabel("RMSE in standard deviations of the column (lower is better)")
    axes.set_title("numerical columns (labels: RMSE in original units)")
    axes.legend(frameon=False, **under_panel(axes))


def draw_accuracy(axes, quality: dict[str, float], encoding: ColumnEncoding, baseline: np.ndarray) -> None:
    accuracy = np.array([quality[f"accuracy_{c}"] for c in encoding.categorical])
    positions = np.arange(accuracy.size)
    bars = axes.barh(positions, accuracy, color=ACTIVE_COLOR)
    axes.bar_label(bars, labels=[f"{value:.1%}" for value in accuracy], padding=3, fontsize=8)
    axes.scatter(baseline, positions, marker="|", s=300, color=HIGHLIGHT, zorder=3, label="most frequent label")
    axes.set_yticks(positions, encoding.categorical)
    axes.invert_yaxis()
    axes.set_xlim(0, 1.12)
    axes.set_xlabel("accuracy (higher is better)")
    axes.set_title("categorical columns")
    axes.legend(frameon=False, **under_panel(axes))


def draw_latent_figures(view: ModelView, options: ReportConfig, folder: Path) -> list[Path]:
    posterior = collect_posterior(view)
    drawn = [draw_kl(posterior, view, folder), draw_pca(posterior, view, options, folder)]
    return [path for path in (*drawn, draw_reconstruction(posterior, view, folder)) if path is not None]
