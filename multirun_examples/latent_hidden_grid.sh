#!/usr/bin/env bash
# A grid: 3 latent sizes x 2 encoder shapes = 6 VAEs, in parallel.
set -euo pipefail
"${PYTHON:-python}" -m vaesae -m model.params.latent_dim=4,8,16 'model.params.hidden_dims=[64,32],[128,64]' "$@"
