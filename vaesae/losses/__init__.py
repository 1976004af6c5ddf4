"""Built-in losses; importing this module registers them."""
from vaesae.losses.sae import SAELoss
from vaesae.losses.vae import VAELoss

__all__ = ["SAELoss", "VAELoss"]
