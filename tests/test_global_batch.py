"""Two ranks (gloo, spawned here) train and validate a VAE on parts of batches as one process does on the
whole batches: noise, loss, gradients, RNG state, validation metrics; parts of unequal size, one empty."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from vaesae.data.encoding import ColumnEncoding
from vaesae.engine.distributed import Ranks, RankShard, data_parallel, rank_sums
from vaesae.engine.inference import evaluate
from vaesae.losses.vae import VAELoss
from vaesae.models.global_batch import global_mean, standard_normal_like
from vaesae.models.vae import VAE

WORLD = 2
ENCODING = ColumnEncoding(numerical=["a", "b"], categorical=["c"], means=[0.0, 0.0], stds=[1.0, 2.0],
                          category_maps={"c": {"x": 0, "y": 1}})


class Batches:
    """Batches of 7, 5 and 1 rows: parts of 4+3, 3+2 and 1+0 rows on two ranks."""

    def __len__(self) -> int:
        return 3

    def epoch(self, epoch: int, first_batch: int = 0):
        generator = torch.Generator().manual_seed(epoch)
        for rows in (7, 5, 1)[first_batch:]:
            yield {"numerical": torch.randn(rows, 2, generator=generator),
                   "categorical": torch.randint(0, 3, (rows, 1), generator=generator)}


def train_and_validate(ranks: Ranks) -> dict:
    """Two epochs of SGD on the VAE, then validation: what each rank (or the one process) ends with."""
    torch.manual_seed(0)
    model = VAE(ENCODING, latent_dim=3, hidden_dims=(8,))
    trained = data_parallel(model, ranks, torch.device("cpu"))
    optimizer, loss = torch.optim.SGD(model.parameters(), lr=0.1), VAELoss(kl_warmup_epochs=0)
    loader = RankShard(Batches(), ranks) if ranks.parallel else Batches()
    for epoch in (1, 2):
        trained.train()
        for batch in loader.epoch(epoch):
            optimizer.zero_grad()
            loss(batch, trained(batch))["loss"].backward()
            optimizer.step()
    metrics = evaluate(trained, loader, loss, torch.device("cpu"), "val", rank_sums(ranks, torch.device("cpu")))
    return {"weights": model.state_dict(), "metrics": metrics, "rng": torch.get_rng_state()}


def on_rank(rank: int, folder: Path) -> None:
    dist.init_process_group("gloo", init_method=f"file://{folder / 'store'}", rank=rank, world_size=WORLD)
    try:
        torch.save(train_and_validate(Ranks(rank, WORLD)), folder / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_train_and_validate_the_vae_of_one_process(tmp_path):
    mp.spawn(on_rank, args=(tmp_path,), nprocs=WORLD)
    expected = train_and_validate(Ranks())
    for rank in range(WORLD):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert torch.equal(got["rng"], expected["rng"])
        for name, tensor in expected["weights"].items():
            torch.testing.assert_close(got["weights"][name], tensor, rtol=1e-5, atol=1e-6, msg=name)
        assert got["metrics"].keys() == expected["metrics"].keys()
        for name, value in expected["metrics"].items():
            assert abs(got["metrics"][name] - value) <= 1e-5 * max(1.0, abs(value)), name


def test_with_one_process_the_helpers_are_the_plain_operations():
    rows = torch.randn(4, 3)
    assert torch.equal(global_mean(rows), rows.mean(dim=0))
    torch.manual_seed(1)
    noise = standard_normal_like(rows)
    torch.manual_seed(1)
    assert torch.equal(noise, torch.randn_like(rows))
