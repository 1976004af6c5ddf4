#!/usr/bin/env bash
# SAE sparsity sweep on the demo VAE's embeddings: train the VAE and extract its embeddings
# (once), then one SAE per sparsity_weight. The total loss includes the sparsity penalty, so the
# jobs are ranked on the reconstruction part alone.
set -euo pipefail
python=${PYTHON:-python}
if [ ! -f experiments/vae/demo/checkpoints/best_model.pt ]; then
  "$python" -m vaesae "$@"
fi
if [ ! -f experiments/vae/demo/embeddings/train_embeddings.npy ]; then
  "$python" -m vaesae task=extract
fi
"$python" -m vaesae -m model=sae train.loss.params.sparsity_weight=0.001,0.01,0.1 \
  checkpoint.metric=val_reconstruction_loss "$@"
