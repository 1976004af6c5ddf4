#!/usr/bin/env bash
# The beta sweep as Ray tasks. Without an address a local Ray instance starts for the sweep;
# on a cluster add hydra.launcher.ray.init.address=auto (or ray://HOST:10001).
# Needs: pip install -c constraints.txt -e ".[ray]"
set -euo pipefail
"${PYTHON:-python}" -m vaesae -m hydra/launcher=vaesae_ray train.loss.params.beta=0.5,1,2 checkpoint.metric=val_elbo "$@"
