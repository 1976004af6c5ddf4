"""The VAE's remedies for posterior collapse and loose numerical reconstruction, each shown to matter."""
from __future__ import annotations

import math

import pytest
import torch

from vaesae.errors import ConfigError
from vaesae.losses.vae import VAELoss


def test_free_bits_make_a_little_use_of_every_latent_dimension_free():
    mu = torch.tensor([[0.3, 3.0], [-0.3, -3.0]], requires_grad=True)  # KL 0.045 and 4.5 nats
    output = {"real": torch.zeros(2, 0), "logits": [], "mu": mu, "logvar": torch.zeros(2, 2)}
    VAELoss()({}, output)["loss"].backward()
    assert mu.grad[:, 0].abs().sum() == 0  # below the free bits: nothing pushes the unit back to the prior
    assert mu.grad[:, 1].abs().sum() > 0
    mu.grad = None
    VAELoss(free_bits=0.0)({}, output)["loss"].backward()
    assert mu.grad[:, 0].abs().sum() > 0


def error_gradients(calibrated_variance: bool) -> list[float]:
    """The gradient of the numerical term on two columns, one predicted within 1%, one within 100%."""
    targets = torch.zeros(4, 2)
    predicted = torch.tensor([[0.01, 1.0], [-0.01, -1.0], [0.01, 1.0], [-0.01, -1.0]], requires_grad=True)
    output = {"real": predicted, "logits": [], "mu": torch.zeros(4, 1), "logvar": torch.zeros(4, 1)}
    VAELoss(calibrated_variance=calibrated_variance)({"numerical": targets}, output)["numerical_loss"].backward()
    return predicted.grad.abs().mean(dim=0).tolist()


def test_calibrated_variance_weighs_a_precise_column_by_its_own_precision():
    precise, loose = error_gradients(calibrated_variance=True)
    assert precise == pytest.approx(loose * 100, rel=1e-4)  # the 1% error counts as much as the 100% one
    precise, loose = error_gradients(calibrated_variance=False)
    assert loose == pytest.approx(precise * 100, rel=1e-4)  # squared error: the small error hardly counts


def test_calibrated_term_is_the_gaussian_log_likelihood_at_the_best_variance():
    output = {"real": torch.zeros(2, 2), "logits": [], "mu": torch.zeros(2, 1), "logvar": torch.zeros(2, 1)}
    targets = torch.tensor([[2.0, 0.1], [0.0, -0.1]])  # mean squared errors 2.0 and 0.01
    result = VAELoss()({"numerical": targets}, output)
    best = [torch.distributions.Normal(0.0, math.sqrt(v)) for v in (2.0, 0.01)]
    expected = -sum(normal.log_prob(targets[:, i]).mean() for i, normal in enumerate(best))
    assert result["numerical_loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    plain = VAELoss(calibrated_variance=False)({"numerical": targets}, output)
    assert plain["numerical_loss"].item() == pytest.approx((4.0 + 0.01 + 0.01) / 2)


def warmup_loss_and_gradient(loss: VAELoss, epoch: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    mu = torch.tensor([[0.1, 2.0], [-0.1, 2.0]], requires_grad=True)  # KL 0.005 and 2.0 nats
    loss.set_epoch(epoch)
    result = loss({}, {"real": torch.zeros(2, 0), "logits": [], "mu": mu, "logvar": torch.zeros(2, 2)})
    result["loss"].backward()
    return result, mu.grad


def test_kl_warmup_is_on_by_default_and_weighs_the_gradient_not_the_reported_loss():
    loss = VAELoss()
    first, first_gradient = warmup_loss_and_gradient(loss, 1)
    assert first["kl_loss"].item() == pytest.approx(0.005 + 2.0)
    assert first["elbo"].item() == pytest.approx(first["kl_loss"].item())
    assert first["loss"].item() == pytest.approx(loss.free_bits + 2.0)  # free bits only change the minimised loss
    warm, warm_gradient = warmup_loss_and_gradient(loss, loss.kl_warmup_epochs)
    assert warm["loss"].item() == first["loss"].item()  # comparable across epochs, warm-up or not
    assert torch.allclose(first_gradient * loss.kl_warmup_epochs, warm_gradient)
    assert warm_gradient[:, 1].abs().sum() > 0


def test_negative_remedy_settings_name_the_key():
    with pytest.raises(ConfigError, match="free_bits"):
        VAELoss(free_bits=-1.0)
