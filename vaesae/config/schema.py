"""The configuration schema: one dataclass per documented section.

Open-ended parts (``model``, ``loss``, ``loader_params``, ``optimizer_config``)
are ``Dict[str, Any]`` for OmegaConf, so extra keys pass through to the
constructors; the dataclass named in each field's ``spec`` metadata lists the
keys vaesae itself knows, and the validator checks those.

Fields that only some tasks use are optional here and required by that task's
validation (see ``vaesae.config.validate``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

TASKS = ("train", "extract", "predict")
MODES = ("min", "max")
SAVE_STRATEGIES = ("best", "last", "all")


def open_dict(spec: type, required: bool = False, extra_keys: bool = True) -> Any:
    """A dict field checked against ``spec``; with ``extra_keys`` other keys pass through."""
    metadata = {"spec": spec, "extra_keys": extra_keys}
    return field(default=MISSING if required else None, metadata=metadata)


@dataclass
class ClassRef:
    """``{class: Name, params: {...}}`` as used by ``model`` and ``loss``; ``params`` is open."""

    class_: str = field(default=MISSING, metadata={"key": "class"})
    params: Dict[str, Any] = field(default_factory=dict)


@dataclass
class LoaderParams:
    batch_size: int = MISSING
    shuffle: bool = MISSING
    num_workers: int = 0
    num_batches_per_epoch: Optional[int] = None


@dataclass
class OptimizerConfig:
    optimizer: str = MISSING
    learning_rate: float = MISSING


@dataclass
class ExperimentConfig:
    name: str = MISSING
    output_dir: str = MISSING
    seed: Optional[int] = None
    device: str = MISSING
    threads: Any = "auto"  # "auto" or a positive whole number: torch's intra-op threads (vaesae.engine.threads)


@dataclass
class ColumnsConfig:
    numerical: List[str] = field(default_factory=list)
    categorical: List[str] = field(default_factory=list)
    embeddings: List[str] = field(default_factory=list)


@dataclass
class DataConfig:
    columns: ColumnsConfig = MISSING
    cardinalities_path: Optional[str] = None
    embeddings_from: Optional[str] = None


@dataclass
class SplitConfig:
    data_path: str = MISSING
    loader_class: str = MISSING
    loader_params: Dict[str, Any] = open_dict(LoaderParams, required=True)
    output: Optional[str] = None


@dataclass
class TrainConfig(SplitConfig):
    epochs: Optional[int] = None
    optimizer_config: Optional[Dict[str, Any]] = open_dict(OptimizerConfig)
    loss: Optional[Dict[str, Any]] = open_dict(ClassRef, extra_keys=False)


@dataclass
class EarlyStoppingConfig:
    patience: int = MISSING
    metric: str = MISSING
    direction: str = MISSING


@dataclass
class ValConfig(SplitConfig):
    frequency: Optional[int] = None
    loss: Optional[Dict[str, Any]] = open_dict(ClassRef, extra_keys=False)
    early_stopping: Optional[EarlyStoppingConfig] = None


@dataclass
class TestMetricsConfig:
    compute: bool = False
    loss: Optional[Dict[str, Any]] = open_dict(ClassRef, extra_keys=False)


@dataclass
class TestConfig(SplitConfig):
    metrics: Optional[TestMetricsConfig] = None


@dataclass
class CheckpointConfig:
    """``resume`` (train only): ``auto`` (this run folder's newest checkpoint, if any) or a checkpoint path.

    ``resume_force`` continues a checkpoint even when settings differ from the ones it was trained with.
    """

    metric: Optional[str] = None
    mode: Optional[str] = None
    save_strategy: Optional[str] = None
    path: Optional[str] = None
    load_strategy: Optional[str] = None
    resume: Optional[str] = None
    resume_force: bool = False


@dataclass
class CredentialsConfig:
    username: Optional[str] = None
    password: Optional[str] = None


@dataclass
class MlflowConfig:
    """``on_unreachable``: ``fail`` stops before training when the store cannot be reached; ``skip`` trains untracked."""

    tracking_uri: str = MISSING
    experiment_name: str = MISSING
    # an empty node rather than None, so that mlflow.credentials.password=… works as an override
    credentials: Optional[CredentialsConfig] = field(default_factory=CredentialsConfig)
    on_unreachable: str = "fail"
    preflight_timeout_s: float = 5.0


@dataclass
class ReportConfig:
    """The pictures drawn into ``{run_dir}/figures/`` after training (and by ``python -m vaesae.report``).

    ``color_by`` is the categorical column that colours the VAE latent projection
    (null: the first categorical column); ``top_features`` SAE features get a
    card listing their ``top_rows`` strongest rows.
    """

    figures: bool = True
    color_by: Optional[str] = None
    top_features: int = 8
    top_rows: int = 10


@dataclass
class RootConfig:
    """The whole configuration. ``task`` picks what runs; ``dry_run`` only checks and summarises."""

    task: str = "train"
    dry_run: bool = False
    overwrite_outputs: bool = False
    plugins: List[str] = field(default_factory=list)
    experiment: ExperimentConfig = MISSING
    model: Dict[str, Any] = open_dict(ClassRef, required=True, extra_keys=False)
    data: DataConfig = MISSING
    train: Optional[TrainConfig] = None
    val: Optional[ValConfig] = None
    test: Optional[TestConfig] = None
    checkpoint: Optional[CheckpointConfig] = None
    mlflow: Optional[MlflowConfig] = None
    report: ReportConfig = field(default_factory=ReportConfig)


SPLITS = ("train", "val", "test")
