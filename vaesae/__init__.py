"""vaesae: Hydra-composed VAE and sparse-autoencoder experiments on tabular data."""
from vaesae.registry import register_dataloader, register_loss, register_model

__version__ = "0.1.0"
__all__ = ["register_dataloader", "register_loss", "register_model", "__version__"]
