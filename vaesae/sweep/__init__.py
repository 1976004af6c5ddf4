"""Sweeps (``python -m vaesae -m ...``): job folders, failure isolation, per-job CPU budget, summary."""
