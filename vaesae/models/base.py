"""What every registered model provides to the engine and the tasks."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vaesae.data.base import BaseDataLoader
from vaesae.data.encoding import ColumnEncoding

Batch = dict[str, torch.Tensor]


class MetricAccumulator:
    """Collects per-batch statistics over a split and turns them into metric values.

    Every statistic is a sum over rows, kept in the tensors ``sums`` returns, so
    the statistics of the parts of a split add up to the split's: data-parallel
    validation adds the ranks' tensors in place before ``compute``.
    """

    def update(self, batch: Batch, output: dict[str, Any]) -> None:
        raise NotImplementedError

    def sums(self) -> list[torch.Tensor]:
        raise NotImplementedError(
            f"{type(self).__name__}.sums: data-parallel validation adds the ranks' statistics; "
            "return them as tensors of sums over rows"
        )

    def compute(self) -> dict[str, float]:
        raise NotImplementedError


class VaesaeModel(nn.Module):
    """Base class of registered models.

    A model is built as ``cls(encoding=..., **model.params)``: the encoding fitted on the
    training split tells it the shape of the data, ``params`` come from the config.

    A model owns its quality metrics (``metric_names``, ``metric_accumulator``)
    and its pictures: ``figures`` names the functions, as ``"module:function"``,
    that draw what it learned at the end of training and in
    ``python -m vaesae.report``. Each is called as ``function(view, options,
    folder)`` with a ``vaesae.report.model_view.ModelView`` of the best
    checkpoint on the validation data and returns the files it wrote. Names
    rather than functions, because models sit below the report package and
    never import it.

    ``input_kinds`` names the kinds of ``data.columns`` the model reads; the
    validator refuses a config that lists columns of another kind.
    """

    figures: tuple[str, ...] = ()
    input_kinds: tuple[str, ...] = ("numerical", "categorical", "embeddings")

    @classmethod
    def metric_names(cls, columns: dict[str, list[str]]) -> list[str]:
        """Quality metrics (without split prefix) that ``metric_accumulator`` produces."""
        return []

    def forward(self, batch: Batch) -> dict[str, Any]:
        raise NotImplementedError

    def encode(self, batch: Batch) -> torch.Tensor:
        """The representation written by ``task=extract``, one row per input row."""
        raise NotImplementedError

    def reconstruct(self, batch: Batch) -> torch.Tensor:
        """The prediction written by ``task=predict``, one row per input row."""
        raise NotImplementedError

    def initialize_from_data(self, loader: BaseDataLoader) -> None:
        """Data-dependent initialisation from the whole training split, before the first step.

        Ask ``loader`` for statistics (``loader.mean(kind)``) rather than for its tensors: a streaming
        loader holds no more than a window of the split."""

    def after_optimizer_step(self) -> None:
        """Called after every optimizer step (e.g. to re-impose a weight constraint)."""

    def metric_accumulator(self) -> MetricAccumulator | None:
        return None

    def hyperparameters(self) -> dict[str, Any]:
        """The constructor params (without ``encoding``) needed to rebuild this model."""
        raise NotImplementedError


def check_input_dim(input_dim: int | None, encoding: ColumnEncoding) -> int:
    """The data's input width; a configured ``input_dim`` that disagrees is a config error."""
    from vaesae.errors import ConfigError

    actual = encoding.input_dim
    if input_dim is not None and input_dim != actual:
        raise ConfigError(
            f"model.params.input_dim: {input_dim} does not match the data, which has {actual} "
            f"input features ({encoding.describe_width()}); remove input_dim to infer it or set it to {actual}"
        )
    return actual
