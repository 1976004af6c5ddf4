"""Pictures of finished runs and sweeps, drawn from the files they leave behind.

``build_report(folder)`` draws into ``folder/figures/``: loss curves for every
run; latent usage, a 2-D projection and reconstruction quality for a VAE;
feature density, L0 and feature cards for an SAE; for a sweep folder, the best
metric of each job against the swept parameters. ``figure_files(folder)`` lists
what is there, for logging as artifacts.
"""
from vaesae.report.build import FIGURES_DIR, Report, build_report, figure_files

__all__ = ["FIGURES_DIR", "Report", "build_report", "figure_files"]
