#!/usr/bin/env bash
# Optuna (TPE) search over beta and latent_dim (configs/hydra/sweeper/vaesae_optuna.yaml),
# trials run by the joblib launcher; best parameters in the sweep's optimization_results.yaml.
# Needs: pip install -c constraints.txt -e ".[optuna]"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"${PYTHON:-python}" -m vaesae -m --config-dir "$here/configs" hydra/sweeper=vaesae_optuna checkpoint.metric=val_elbo "$@"
