#!/usr/bin/env bash
# The whole chain from nothing, on the demo data, with the documented Examples 1 and 2:
#   train the VAE -> extract its embeddings -> train the SAE on them -> extract SAE features
#   -> predict the test split with the VAE.
# Extra arguments are Hydra overrides applied to every step, e.g. a quick run:
#   bash multirun_examples/pipeline.sh train.epochs=2 val.frequency=1 experiment.device=cpu
set -euo pipefail
python=${PYTHON:-python}
"$python" -m vaesae experiment=example1 "$@"
"$python" -m vaesae experiment=example1 task=extract "$@"
"$python" -m vaesae experiment=example2 "$@"
"$python" -m vaesae experiment=example2 task=extract "$@"
"$python" -m vaesae experiment=example1 task=predict "$@"
echo "VAE run:  experiments/vae/baseline (embeddings/, predictions/)"
echo "SAE run:  experiments/sae/baseline (embeddings/ holds the sparse features)"
