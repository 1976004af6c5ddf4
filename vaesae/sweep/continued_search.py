"""What continuing a search (a sweeper other than Hydra's basic one) with ``checkpoint.resume=auto`` does.

A search does not list its jobs in advance: when its sweep folder is
continued, the sweeper asks for its trials again from the first. With a fixed
sampler seed (``hydra.sweeper.sampler.seed``) it asks the same trials in the
same order, so each lands in the job folder of its earlier run: a completed
trial is not rerun (its recorded value is handed back to the search), an
interrupted one continues from its state, and the search goes on as if it had
not stopped. Without a seed it picks new trials in new folders: the earlier
trials stay in the summary (an interrupted one as ``interrupted``) but do not
count towards ``n_trials``. The start of such a sweep says which of the two
happens.
"""
from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("vaesae")

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def note_continued_search(config: DictConfig, sweep_dir: Path) -> None:
    """Log what continuing ``sweep_dir`` means when a search, not the basic sweeper, runs it."""
    if OmegaConf.select(config, "hydra.sweeper._target_") == BASIC_SWEEPER:
        return
    seed = OmegaConf.select(config, "hydra.sweeper.sampler.seed", default=None)
    if seed is None:
        log.warning("continuing the search in %s without a sampler seed (hydra.sweeper.sampler.seed): it picks new "
                    "trials in new job folders; its earlier trials stay in the summary, an interrupted one is not "
                    "finished, and none counts towards n_trials. Set the seed the search started with to continue "
                    "it trial by trial", sweep_dir)
        return
    log.info("continuing the search in %s with sampler seed %s: it asks its trials again in the same order; "
             "completed ones are not rerun and an interrupted one continues from its state", sweep_dir, seed)
