#!/usr/bin/env bash
# The beta sweep as a Slurm job array through submitit; pass the partition and resources, e.g.
#   bash multirun_examples/slurm_sweep.sh hydra.launcher.partition=cpu hydra.launcher.timeout_min=120
# LOCAL=1 runs the same jobs with submitit's local executor instead, to try the set-up here.
# Needs: pip install -c constraints.txt -e ".[slurm]"
set -euo pipefail
launcher=vaesae_slurm
if [ "${LOCAL:-0}" = 1 ]; then launcher=vaesae_submitit_local; fi
"${PYTHON:-python}" -m vaesae -m hydra/launcher=$launcher train.loss.params.beta=0.5,1,2 checkpoint.metric=val_elbo "$@"
