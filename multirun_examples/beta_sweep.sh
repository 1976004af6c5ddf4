#!/usr/bin/env bash
# Three VAEs, beta = 0.5, 1, 2, trained in parallel (joblib, one job per core).
# Extra arguments are overrides for every job, e.g. a quick run: train.epochs=2
set -euo pipefail
"${PYTHON:-python}" -m vaesae -m train.loss.params.beta=0.5,1,2 checkpoint.metric=val_elbo "$@"
