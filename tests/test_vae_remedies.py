"""The VAE's remedies for posterior collapse and loose numerical reconstruction, each shown to matter."""
from __future__ import annotations

import math

import pytest
import torch

from vaesae.data.encoding import ColumnEncoding
from vaesae.errors import ConfigError
from vaesae.losses.vae import VAELoss
from vaesae.models.vae import VAE


def encoding_for(numerical: int, groups: int = 0) -> ColumnEncoding:
    categorical = ["group"] if groups else []
    return ColumnEncoding(
        numerical=[f"x{i}" for i in range(numerical)], categorical=categorical,
        means=[0.0] * numerical, stds=[1.0] * numerical,
        category_maps={"group": {f"g{i}": i for i in range(groups)}} if groups else {},
    )


def low_rank_table(rows: int = 2000, factors: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    """Eight standardised columns driven by ``factors`` independent factors, plus a little noise."""
    generator = torch.Generator().manual_seed(seed)
    loadings = torch.randn(factors, 8, generator=generator)
    x = torch.randn(rows, factors, generator=generator) @ loadings + 0.1 * torch.randn(rows, 8, generator=generator)
    return {"numerical": (x - x.mean(0)) / x.std(0)}


def grouped_table(rows: int = 2000, groups: int = 12, seed: int = 0) -> dict[str, torch.Tensor]:
    """A label that fixes two numerical columns up to noise of 2% of their spread."""
    generator = torch.Generator().manual_seed(seed)
    group = torch.randint(0, groups, (rows,), generator=generator)
    centres = torch.randn(groups, 2, generator=torch.Generator().manual_seed(99))
    x = centres[group] + 0.02 * torch.randn(rows, 2, generator=generator)
    return {"numerical": (x - x.mean(0)) / x.std(0), "categorical": group[:, None]}


def fit(model: VAE, loss: VAELoss, table: dict[str, torch.Tensor], epochs: int) -> None:
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    rows = next(iter(table.values())).shape[0]
    for epoch in range(1, epochs + 1):
        loss.set_epoch(epoch)
        for index in torch.randperm(rows).split(128):
            batch = {key: value[index] for key, value in table.items()}
            optimizer.zero_grad()
            loss(batch, model(batch))["loss"].backward()
            optimizer.step()
    model.eval()


def quality(model: VAE, table: dict[str, torch.Tensor]) -> dict[str, float]:
    accumulator = model.metric_accumulator()
    with torch.no_grad():
        accumulator.update(table, model(table))
    return accumulator.compute()


def active_units(**loss_params) -> float:
    torch.manual_seed(0)
    model = VAE(encoding_for(8), latent_dim=8, hidden_dims=[32])
    table = low_rank_table()
    fit(model, VAELoss(**loss_params), table, epochs=12)
    return quality(model, table)["active_units"]


def test_free_bits_keep_at_least_half_the_latent_units_active():
    assert active_units() >= 6  # the defaults: free bits on
    assert active_units(free_bits=0.0) <= 4  # without: about one unit per factor, the rest collapse


def grouped_rmse(calibrated_variance: bool) -> float:
    torch.manual_seed(0)
    model = VAE(encoding_for(2, groups=12), latent_dim=4, hidden_dims=[32])
    table = grouped_table()
    fit(model, VAELoss(calibrated_variance=calibrated_variance), table, epochs=12)
    metrics = quality(model, table)
    return max(metrics["rmse_x0"], metrics["rmse_x1"])


def test_calibrated_variance_makes_determined_columns_as_precise_as_the_label_behind_them():
    assert grouped_rmse(calibrated_variance=True) < 0.1  # noise is 0.02 of the spread
    assert grouped_rmse(calibrated_variance=False) > 0.15


def test_calibrated_term_is_the_gaussian_log_likelihood_at_the_best_variance():
    output = {"real": torch.zeros(2, 2), "logits": [], "mu": torch.zeros(2, 1), "logvar": torch.zeros(2, 1)}
    targets = torch.tensor([[2.0, 0.1], [0.0, -0.1]])  # mean squared errors 2.0 and 0.01
    result = VAELoss()({"numerical": targets}, output)
    best = [torch.distributions.Normal(0.0, math.sqrt(v)) for v in (2.0, 0.01)]
    expected = -sum(normal.log_prob(targets[:, i]).mean() for i, normal in enumerate(best))
    assert result["numerical_loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    plain = VAELoss(calibrated_variance=False)({"numerical": targets}, output)
    assert plain["numerical_loss"].item() == pytest.approx((4.0 + 0.01 + 0.01) / 2)


def test_kl_warmup_is_on_by_default_and_free_bits_only_change_the_minimised_loss():
    loss = VAELoss()
    mu = torch.tensor([[0.1, 2.0], [-0.1, 2.0]])
    output = {"real": torch.zeros(2, 0), "logits": [], "mu": mu, "logvar": torch.zeros(2, 2)}
    loss.set_epoch(1)
    first = loss({}, output)
    kl_dims = 0.5 * (mu**2).mean(0)  # 0.005 and 2.0 nats
    assert first["kl_loss"].item() == pytest.approx(kl_dims.sum().item())
    assert first["elbo"].item() == pytest.approx(first["kl_loss"].item())
    assert first["loss"].item() == pytest.approx((loss.free_bits + 2.0) / loss.kl_warmup_epochs)
    loss.set_epoch(loss.kl_warmup_epochs)
    assert loss({}, output)["loss"].item() == pytest.approx(loss.free_bits + 2.0)


def test_negative_remedy_settings_name_the_key():
    with pytest.raises(ConfigError, match="free_bits"):
        VAELoss(free_bits=-1.0)
