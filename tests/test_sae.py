"""SAE model, its quality metrics and SAELoss."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import yaml

from vaesae.data.embedding import EmbeddingDataLoader
from vaesae.data.encoding import ColumnEncoding
from vaesae.errors import ConfigError
from vaesae.losses.sae import SAELoss
from vaesae.models.sae import DEAD_AFTER_ROWS, SAE
from vaesae.registry import LOSSES, MODELS


def embedding_encoding(width: int) -> ColumnEncoding:
    return ColumnEncoding(embeddings=["embedding"], embedding_dim=width)


def make_sae(width: int = 8, hidden_dim: int = 24, seed: int = 0, **params) -> SAE:
    torch.manual_seed(seed)
    return SAE(encoding=embedding_encoding(width), hidden_dim=hidden_dim, **params)


def split_metrics(model: SAE, batches: list[torch.Tensor]) -> dict[str, float]:
    accumulator = model.metric_accumulator()
    with torch.no_grad():
        for x in batches:
            batch = {"embeddings": x}
            accumulator.update(batch, model(batch))
    return accumulator.compute()


def test_registered_under_config_names():
    assert MODELS.get("SAE") is SAE
    assert LOSSES.get("SAELoss") is SAELoss
    assert SAE.metric_names({"embeddings": ["embedding"]}) == ["l0", "fvu", "dead_fraction"]


def test_fvu_and_l0_over_uneven_batches_match_numpy():
    model = make_sae(width=5, hidden_dim=7)
    with torch.no_grad():
        model.b_dec.copy_(torch.randn(5))
        model.encoder.bias.copy_(torch.randn(7))
    x = torch.randn(23, 5, generator=torch.Generator().manual_seed(1)) * 3.0 + 2.0
    metrics = split_metrics(model, list(torch.split(x, [4, 11, 8])))

    with torch.no_grad():
        out = model({"embeddings": x})
    data, reconstruction = x.double().numpy(), out["reconstruction"].double().numpy()
    expected_fvu = ((data - reconstruction) ** 2).sum() / ((data - data.mean(axis=0)) ** 2).sum()
    assert metrics["fvu"] == pytest.approx(expected_fvu, rel=1e-6)
    assert metrics["l0"] == pytest.approx((out["features"].numpy() != 0).sum(axis=1).mean())


def test_l0_and_dead_fraction_on_crafted_features():
    model = make_sae(width=2, hidden_dim=4)
    with torch.no_grad():
        model.encoder.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]))
        model.encoder.bias.copy_(torch.tensor([0.0, 0.0, -1.0, -1.0]))  # features 2 and 3 never fire
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [-1.0, 2.0]])  # 1, 2, 0, 1 active features
    metrics = split_metrics(model, [x[:3], x[3:]])
    assert metrics["l0"] == pytest.approx(1.0)
    assert metrics["dead_fraction"] == pytest.approx(0.5)


def test_decoder_columns_stay_unit_norm_under_training():
    model = make_sae()
    before = model.decoder.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss = SAELoss(sparsity_weight=0.1)
    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
    for _ in range(10):  # no normalize_decoder: the parametrization alone must hold the constraint
        optimizer.zero_grad()
        loss({"embeddings": x}, model({"embeddings": x}))["loss"].backward()
        optimizer.step()
    weight = model.decoder.weight.detach()
    assert not torch.allclose(weight, before)
    torch.testing.assert_close(weight.norm(dim=0), torch.ones(24))

    raw = model.decoder.parametrizations.weight.original
    with torch.no_grad():
        expected = model({"embeddings": x})["reconstruction"]
    model.normalize_decoder()
    torch.testing.assert_close(raw.detach().norm(dim=0), torch.ones(24))
    with torch.no_grad():
        torch.testing.assert_close(model({"embeddings": x})["reconstruction"], expected)


def test_encoder_starts_as_decoder_transpose_and_b_dec_from_data(tmp_path):
    model = make_sae()
    torch.testing.assert_close(model.encoder.weight, model.decoder.weight.T)
    assert torch.count_nonzero(model.b_dec) == 0
    x = torch.randn(100, 8) + 5.0
    np.save(tmp_path / "x.npy", x.numpy())
    loader = EmbeddingDataLoader(tmp_path / "x.npy", {"embeddings": ["e"]}, batch_size=10, shuffle=False)
    model.initialize_from_data(loader.use_encoding(loader.fit_encoding()))
    torch.testing.assert_close(model.b_dec.detach(), x.mean(dim=0))


def test_topk_keeps_the_k_largest_pre_activations():
    model = make_sae(activation="topk", k=3)
    x = torch.randn(50, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model({"embeddings": x})
        assert ((out["features"] != 0).sum(dim=1) <= 3).all()
        model.encoder.bias.fill_(100.0)  # every pre-activation positive: exactly k survive
        out = model({"embeddings": x})
    active = out["features"] != 0
    assert (active.sum(dim=1) == 3).all()
    top = out["pre_activations"].topk(3, dim=1).indices
    assert active.gather(1, top).all()
    torch.testing.assert_close(out["features"][active], out["pre_activations"][active])


def test_encode_reconstruct_and_rebuild_from_hyperparameters():
    model = make_sae(activation="topk", k=2, sparsity_weight=0.5)
    x = {"embeddings": torch.randn(6, 8)}
    rebuilt = SAE(encoding=embedding_encoding(8), **model.hyperparameters())
    rebuilt.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert model.encode(x).shape == (6, 24)
        assert model.reconstruct(x).shape == (6, 8)
        torch.testing.assert_close(rebuilt.reconstruct(x), model.reconstruct(x))
    assert rebuilt.hyperparameters() == model.hyperparameters()


def test_loss_components():
    x = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    output = {
        "reconstruction": torch.tensor([[1.0, 1.0], [2.0, -1.0]]),
        "features": torch.tensor([[0.0, 3.0, 1.0], [2.0, 0.0, 0.0]]),
    }
    result = SAELoss(sparsity_weight=0.1)({"embeddings": x}, output)
    assert set(result) == set(SAELoss.components)
    assert result["reconstruction_loss"].item() == pytest.approx((1.0 + 4.0) / 2)
    assert result["sparsity_loss"].item() == pytest.approx((4.0 + 2.0) / 2)
    assert result["loss"].item() == pytest.approx(2.5 + 0.1 * 3.0)


@pytest.mark.parametrize(("width", "k"), [(2, 2), (8, 4), (32, 6), (100, 8)])
def test_defaults_are_sized_to_the_input_width(width, k):
    model = SAE(encoding=embedding_encoding(width), activation="topk")
    assert model.hidden_dim == 4 * width and model.k == k
    assert model.hyperparameters()["sparsity_weight"] is None  # not given: nothing to contradict the loss


def test_dead_features_alone_reconstruct_the_residual_in_the_aux_loss():
    model = make_sae(activation="topk", k=2)
    x = {"embeddings": torch.randn(32, 8, generator=torch.Generator().manual_seed(1))}
    assert "aux_reconstruction" not in model(x)
    assert SAELoss()(x, model(x))["aux_loss"].item() == 0.0
    with torch.no_grad():
        model.encoder.bias[6:] = 100.0  # features 0-5 never make the top 2, though often positive
        model.rows_since_active[:6] = DEAD_AFTER_ROWS
    output = model(x)
    assert (output["features"][:, :6] == 0).all()
    result = SAELoss(sparsity_weight=0.0, aux_weight=0.5)(x, output)
    assert result["aux_loss"].item() > 0
    assert result["loss"].item() == pytest.approx(result["reconstruction_loss"].item() + 0.5 * result["aux_loss"].item())
    result["loss"].backward()
    gradient = model.encoder.weight.grad.abs().sum(dim=1)
    assert (gradient[:6] > 0).all()  # the aux loss trains the dead features


def test_a_feature_counts_as_dead_only_after_enough_rows_without_firing():
    model = make_sae(activation="topk", k=2)
    with torch.no_grad():
        model.encoder.bias[6:] = 100.0
    x = {"embeddings": torch.randn(1000, 8, generator=torch.Generator().manual_seed(1))}
    for _ in range(DEAD_AFTER_ROWS // 1000):
        assert "aux_reconstruction" not in model(x)
    assert "aux_reconstruction" in model(x)
    model.eval()
    assert "aux_reconstruction" not in model(x)


def test_packaged_sae_records_the_sparsity_weight_the_loss_trains_with(cli):
    done = cli("model=sae", "train.loss.params.sparsity_weight=0.5", "--cfg", "job", "--resolve")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert config["model"]["params"]["sparsity_weight"] == 0.5 == config["train"]["loss"]["params"]["sparsity_weight"]
    assert config["model"]["params"]["activation"] == "topk"


def test_input_dim_mismatch_names_both_widths():
    with pytest.raises(ConfigError, match="model.params.input_dim") as error:
        SAE(encoding=embedding_encoding(8), hidden_dim=16, input_dim=5)
    assert "5" in str(error.value) and "8" in str(error.value)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"activation": "gelu"}, "model.params.activation"),
        ({"activation": "topk", "k": 0}, "model.params.k"),
        ({"activation": "topk", "k": 25}, "model.params.k"),
        ({"hidden_dim": 0}, "model.params.hidden_dim"),
    ],
)
def test_bad_params_name_the_config_key(params, key):
    with pytest.raises(ConfigError, match=key) as error:
        make_sae(**{"hidden_dim": 24, **params})
    if key.endswith("activation"):
        assert "relu" in str(error.value) and "topk" in str(error.value)


def test_undercomplete_dictionary_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="vaesae.models.sae"):
        make_sae(width=8, hidden_dim=4)
    assert "undercomplete" in caplog.text


def planted_sparse_data(rows: int = 20_000, width: int = 8, directions: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows made of 1-3 unit directions (out of 12, in 8 dims) with coefficients in [0.5, 2], plus noise."""
    generator = torch.Generator().manual_seed(0)
    planted = torch.randn(directions, width, generator=generator)
    planted /= planted.norm(dim=1, keepdim=True)
    active_per_row = torch.randint(1, 4, (rows, 1), generator=generator)
    random_rank = torch.rand(rows, directions, generator=generator).argsort(dim=1).argsort(dim=1)
    coefficients = 0.5 + 1.5 * torch.rand(rows, directions, generator=generator)
    codes = coefficients * (random_rank < active_per_row)
    return codes @ planted + 0.01 * torch.randn(rows, width, generator=generator), planted


@pytest.mark.parametrize(
    ("params", "loss_params"),
    [
        ({"activation": "relu"}, {"sparsity_weight": 0.5}),
        ({"activation": "topk", "k": 3}, {"sparsity_weight": 0.0, "aux_weight": 0.0}),
    ],
    ids=["relu", "topk-without-aux"],
)
@pytest.mark.slow
def test_recovers_planted_sparse_directions(params, loss_params):
    x, planted = planted_sparse_data()
    model = make_sae(width=8, **{"hidden_dim": 24, **params})
    loss = SAELoss(**loss_params)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(3000):
        batch = {"embeddings": x[torch.randint(0, x.shape[0], (256,), generator=generator)]}
        optimizer.zero_grad()
        loss(batch, model(batch))["loss"].backward()
        optimizer.step()
        model.normalize_decoder()

    model.eval()
    cosine = planted @ model.decoder.weight.detach()  # decoder columns are unit norm
    recovered = (cosine.max(dim=1).values > 0.9).float().mean().item()
    metrics = split_metrics(model, list(torch.split(x, 4096)))
    assert recovered >= 0.75
    assert metrics["fvu"] < 0.15
    assert metrics["l0"] < 6  # the data has 2 active directions per row on average
