"""Built-in models; importing this module registers them."""
from vaesae.models.sae import SAE
from vaesae.models.vae import VAE

__all__ = ["SAE", "VAE"]
