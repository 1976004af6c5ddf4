"""The VAE decodes categorical columns through the embeddings they are encoded by; checkpoints of its earlier layout are refused clearly."""
from __future__ import annotations

import pytest
import torch

from vaesae.data.encoding import ColumnEncoding
from vaesae.errors import CheckpointError
from vaesae.models.vae import VAE
from vaesae.tasks.restore import rebuild_model

HIDDEN = [128, 128]


def encoding(labels: int) -> ColumnEncoding:
    """Two numerical columns, a 5-label column and a column of ``labels`` labels."""
    return ColumnEncoding(
        numerical=["a", "b"], categorical=["small", "many"], means=[0.0, 0.0], stds=[1.0, 1.0],
        category_maps={"small": {f"s{i}": i for i in range(5)}, "many": {f"m{i}": i for i in range(labels)}},
    )


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_a_label_costs_its_embedding_width_not_the_decoder_s():
    few, many = VAE(encoding(100), latent_dim=16, hidden_dims=HIDDEN), VAE(encoding(1100), latent_dim=16, hidden_dims=HIDDEN)
    per_label = (parameter_count(many) - parameter_count(few)) / 1000
    width = many.embedders[1].embedding_dim
    assert per_label == width + 1  # its input/output embedding and its output bias; a linear head would add 128 more


def test_a_label_s_logit_moves_with_its_input_embedding_only():
    torch.manual_seed(0)
    model = VAE(encoding(20), latent_dim=4, hidden_dims=HIDDEN).eval()
    z = torch.randn(8, 4)
    with torch.no_grad():
        before = model.decode(z)["logits"][1]
        model.embedders[1].weight[7] += 1.0
        after = model.decode(z)["logits"][1]
    changed = (after - before).abs().amax(dim=0) > 1e-6
    assert changed.nonzero().flatten().tolist() == [7]


def earlier_layout(state: dict[str, torch.Tensor], hidden: int) -> dict[str, torch.Tensor]:
    """``state`` as the VAE stored it before labels were decoded through their embeddings: one linear head."""
    labels = len(state["label_bias"])
    kept = {name: value for name, value in state.items() if not name.startswith("label_")}
    return {**kept, "logit_head.weight": torch.zeros(labels, hidden), "logit_head.bias": torch.zeros(labels)}


def test_a_checkpoint_of_the_earlier_layout_is_refused_naming_its_weights(tmp_path):
    model = VAE(encoding(20), latent_dim=4, hidden_dims=HIDDEN)
    path = tmp_path / "best_model.pt"
    payload = {"model_class": "VAE", "model_params": model.hyperparameters(), "encoding": model.encoding.to_state(),
               "model_state": earlier_layout(model.state_dict(), HIDDEN[0])}
    with pytest.raises(CheckpointError) as refused:
        rebuild_model(path, payload, torch.device("cpu"))
    message = str(refused.value)
    assert message.startswith(f"{path}: weights do not fit VAE")
    assert all(name in message for name in ('"label_bias"', '"label_space_head.weight"', '"logit_head.weight"'))
