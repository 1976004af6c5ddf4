"""Everything that can be checked before any data is read, reported all at once.

``validate`` runs the structural check against the schema, then the rules that
need more than types: valid choices, registered names, constructor parameters,
what each task requires, and whether the metrics named for checkpointing and
early stopping can be produced by the configured loss and model.
"""
from __future__ import annotations

import inspect
import math
import re
from pathlib import PurePath
from typing import Any, Callable, Mapping

import torch

from vaesae.config.param_types import constructors, describe, fits, parameter_hints, takes_any_keyword
from vaesae.config.schema import MODES, SAVE_STRATEGIES, SPLITS, TASKS, RootConfig
from vaesae.config.structure import check_structure
from vaesae.config.tracking_uri import MAX_PREFLIGHT_TIMEOUT_S, ON_UNREACHABLE, uri_problem
from vaesae.errors import ConfigError
from vaesae.registry import DATALOADERS, LOSSES, MODELS, did_you_mean

LOAD_STRATEGY = re.compile(r"^(best|last|epoch_[0-9]+)$")
DEVICE = re.compile(r"^(cpu|auto|cuda(:[0-9]+)?)$")
FRAMEWORK_LOADER_PARAMS = {"data_path", "columns", "seed", "cardinalities"}
MAX_SEED = 2**32 - 1
MAX_WORKERS = 64
OUTPUT_SUFFIXES = (".npy", ".parquet", ".pq")
ARRAY_SUFFIXES = (".npy", ".npz")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def get(tree: Any, path: str) -> Any:
    """The value at a dotted ``path``, or None where any part is missing or not a mapping."""
    for part in path.split("."):
        if not isinstance(tree, Mapping):
            return None
        tree = tree.get(part)
    return tree


def accepted_params(target: Callable, skip: set[str]) -> set[str] | None:
    """Keyword names ``target`` accepts (None when any keyword reaches a ``**kwargs`` that keeps it)."""
    functions = constructors(target)
    if takes_any_keyword(functions[-1]):
        return None
    return {
        p.name for function in functions for p in inspect.signature(function).parameters.values()
        if p.name not in skip and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }


def check_params(given: Mapping | None, target: Callable, key: str, skip: set[str], problems: list[str]) -> None:
    """Every name in ``given`` must be a parameter of ``target``, and every value fit its annotation."""
    if not isinstance(given, Mapping):
        return
    accepted = accepted_params(target, skip)
    hints = parameter_hints(target)
    for name, value in given.items():
        if accepted is not None and name not in accepted:
            problems.append(
                f"{key}.{name}: not a parameter of {getattr(target, '__name__', target)}"
                f"{did_you_mean(name, accepted)}; accepted: {', '.join(sorted(accepted))}"
            )
        elif name in hints and not fits(value, hints[name]):
            problems.append(f"{key}.{name}: expected {describe(hints[name])}, got {value!r}")


def color_by_problem(column: Any, categorical: list[str]) -> str | None:
    """Why ``column`` cannot colour the latent picture of a model with these categorical columns, or None."""
    if not isinstance(column, str) or not categorical or column in categorical:
        return None
    return f"{column!r} is not a categorical column{did_you_mean(column, categorical)}; data.columns.categorical: {', '.join(categorical)}"


def threads_problems(setting: object) -> list[str]:
    """What is wrong with an ``experiment.threads`` value (absent means ``auto``)."""
    if setting is None or setting == "auto" or (isinstance(setting, int) and not isinstance(setting, bool) and setting > 0):
        return []
    return [f"experiment.threads: expected auto or a positive whole number, got {setting!r}"]


class Validator:
    """Collects semantic problems of one resolved config."""

    def __init__(self, cfg: Mapping):
        self.cfg = cfg
        self.task = cfg.get("task", "train")
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def choice(self, path: str, allowed: tuple[str, ...]) -> None:
        value = get(self.cfg, path)
        if value is not None and value not in allowed:
            self.add(f"{path}: {value!r} is not one of {', '.join(allowed)}{did_you_mean(value, allowed)}")

    def require(self, path: str, why: str) -> None:
        if get(self.cfg, path) is None:
            self.add(f"{path}: required {why}")

    def within(self, path: str, minimum: float, maximum: float | None = None, why: str = "") -> None:
        """A number at ``path`` must be finite and in ``[minimum, maximum]``."""
        value = get(self.cfg, path)
        if not is_number(value):
            return
        if not math.isfinite(value):
            self.add(f"{path}: must be a finite number, got {value}")
        elif value < minimum:
            self.add(f"{path}: must be at least {minimum}, got {value}")
        elif maximum is not None and value > maximum:
            self.add(f"{path}: must be at most {maximum}{why}, got {value}")

    def positive(self, path: str, minimum: int = 1) -> None:
        self.within(path, minimum)

    def registered(self, registry, path: str) -> type | None:
        name = get(self.cfg, path)
        if not isinstance(name, str):
            return None
        if name not in registry:
            self.add(
                f"{path}: unknown {registry.kind} {name!r}{did_you_mean(name, registry.names())}; "
                f"registered: {', '.join(registry.names())}"
            )
            return None
        return registry.get(name)

    def run(self) -> list[str]:
        self.choice("task", TASKS)
        self.within("experiment.seed", 0, MAX_SEED, " (the range NumPy and torch seed from)")
        self.check_device()
        self.problems += threads_problems(get(self.cfg, "experiment.threads"))
        self.check_columns()
        self.check_model()
        self.check_report()
        self.check_mlflow()
        for split in SPLITS:
            if get(self.cfg, split) is not None:
                self.check_split(split)
        {"train": self.check_train, "extract": self.check_extract, "predict": self.check_predict}.get(
            self.task, lambda: None
        )()
        return self.problems

    def check_device(self) -> None:
        device = get(self.cfg, "experiment.device")
        if isinstance(device, str) and not DEVICE.match(device):
            self.add(f"experiment.device: {device!r} is not one of cpu, cuda, cuda:N, auto")

    def check_mlflow(self) -> None:
        self.choice("mlflow.on_unreachable", ON_UNREACHABLE)
        timeout = get(self.cfg, "mlflow.preflight_timeout_s")
        if timeout is not None and not (isinstance(timeout, (int, float)) and 0 < timeout <= MAX_PREFLIGHT_TIMEOUT_S):
            self.add(f"mlflow.preflight_timeout_s: must be a number of seconds in (0, {MAX_PREFLIGHT_TIMEOUT_S}], got {timeout!r}")
        problem = uri_problem(get(self.cfg, "mlflow.tracking_uri"))
        if problem:
            self.add(problem)

    def check_columns(self) -> None:
        columns = get(self.cfg, "data.columns")
        if not isinstance(columns, Mapping):
            return
        listed = [(kind, c) for kind in ("numerical", "categorical", "embeddings") for c in columns.get(kind) or []]
        if not listed:
            self.add("data.columns: all of numerical, categorical and embeddings are empty; list at least one column")
        seen: dict[str, str] = {}
        for kind, column in listed:
            if column in seen:
                self.add(f"data.columns.{kind}: column {column!r} is listed twice (also in data.columns.{seen[column]})")
            seen[column] = kind
        if columns.get("categorical") and not get(self.cfg, "data.cardinalities_path"):
            self.add("data.cardinalities_path: required when data.columns.categorical is not empty")

    def check_report(self) -> None:
        self.positive("report.top_features", minimum=0)
        self.positive("report.top_rows")
        problem = color_by_problem(get(self.cfg, "report.color_by"), get(self.cfg, "data.columns.categorical") or [])
        if problem:
            self.add(f"report.color_by: {problem}")

    def check_model(self) -> None:
        model_cls = self.registered(MODELS, "model.class")
        if model_cls is not None:
            self.check_model_inputs(model_cls)
        if model_cls is not None and self.task == "train":
            check_params(get(self.cfg, "model.params"), model_cls, "model.params", {"self", "encoding"}, self.problems)

    def check_loss(self, path: str) -> type | None:
        """The loss class; its numeric params are weights and counts, so each must be finite and not negative."""
        loss_cls = self.registered(LOSSES, f"{path}.class")
        if loss_cls is not None:
            check_params(get(self.cfg, f"{path}.params"), loss_cls, f"{path}.params", {"self"}, self.problems)
        params = get(self.cfg, f"{path}.params")
        for name in params if isinstance(params, Mapping) else ():
            self.within(f"{path}.params.{name}", 0)
        return loss_cls

    def check_split(self, split: str) -> None:
        loader_cls = self.registered(DATALOADERS, f"{split}.loader_class")
        params = get(self.cfg, f"{split}.loader_params")
        if loader_cls is not None:
            skip = {"self"} | FRAMEWORK_LOADER_PARAMS
            check_params(params, loader_cls, f"{split}.loader_params", skip, self.problems)
        self.check_array_input(split, loader_cls)
        self.positive(f"{split}.loader_params.batch_size")
        self.within(f"{split}.loader_params.num_workers", 0, MAX_WORKERS, " (worker processes each hold a copy of the data)")
        self.positive(f"{split}.loader_params.num_batches_per_epoch")

    def check_array_input(self, split: str, loader_cls: type | None) -> None:
        """A loader that declares it cannot read .npy / .npz arrays is not given one."""
        data_path = get(self.cfg, f"{split}.data_path")
        if getattr(loader_cls, "reads_arrays", None) is not False or not isinstance(data_path, str):
            return
        if PurePath(data_path).suffix.lower() in ARRAY_SUFFIXES:
            parquet = PurePath(data_path).with_suffix(".parquet")
            self.add(
                f"{split}.data_path: {loader_cls.__name__} cannot read the array file {data_path!r}; use "
                f"{split}.loader_class=EmbeddingDataLoader, or write the embeddings as Parquet (task=extract "
                f"{split}.output={parquet}) and set {split}.data_path={parquet}"
            )

    def check_model_inputs(self, model_cls: type) -> None:
        """The columns listed are of kinds the model reads (an SAE reads embeddings only)."""
        columns, kinds = get(self.cfg, "data.columns"), getattr(model_cls, "input_kinds", None)
        if not isinstance(columns, Mapping) or kinds is None:
            return
        for kind in ("numerical", "categorical", "embeddings"):
            if columns.get(kind) and kind not in kinds:
                self.add(f"data.columns.{kind}: {model_cls.__name__} reads only {' and '.join(kinds)} columns; "
                         f"set data.columns.{kind}=[]")
        listed = [kind for kind in ("numerical", "categorical", "embeddings") if columns.get(kind)]
        if listed and not any(columns.get(kind) for kind in kinds):
            self.add(f"data.columns.{kinds[0]}: {model_cls.__name__} needs at least one {' or '.join(kinds)} column")

    def check_train(self) -> None:
        why = "for task=train"
        for path in ("experiment.seed", "train", "train.epochs", "train.optimizer_config", "train.loss", "checkpoint",
                     "checkpoint.metric", "checkpoint.mode", "checkpoint.save_strategy"):
            self.require(path, why)
        self.positive("train.epochs")
        self.choice("checkpoint.mode", MODES)
        self.choice("checkpoint.save_strategy", SAVE_STRATEGIES)
        self.check_optimizer()
        if get(self.cfg, "checkpoint.resume") == "":
            self.add("checkpoint.resume: empty; use auto, a checkpoint path, or null for a new run")
        train_loss = self.check_loss("train.loss") if get(self.cfg, "train.loss") else None
        val_loss = None
        if get(self.cfg, "val") is not None:
            self.require("val.frequency", why)
            self.require("val.loss", why)
            self.positive("val.frequency")
            self.check_validation_happens()
            val_loss = self.check_loss("val.loss") if get(self.cfg, "val.loss") else None
        available = self.available_metrics(train_loss, val_loss)
        if get(self.cfg, "val.early_stopping") is not None:
            self.choice("val.early_stopping.direction", MODES)
            self.positive("val.early_stopping.patience")
            validation = [name for name in available or () if name.startswith("val_")]
            self.check_metric("val.early_stopping.metric", validation if available is not None else None, "validation ")
        self.check_metric("checkpoint.metric", available)

    def check_validation_happens(self) -> None:
        """Validation runs every ``val.frequency`` epochs: a run shorter than that never validates."""
        epochs, frequency = get(self.cfg, "train.epochs"), get(self.cfg, "val.frequency")
        if is_number(epochs) and is_number(frequency) and 1 <= epochs < frequency:
            self.add(
                f"val.frequency: {frequency} is more than train.epochs ({epochs}), so validation would never run; "
                f"set val.frequency to at most {epochs} or train for at least {frequency} epochs"
            )

    def available_metrics(self, train_loss: type | None, val_loss: type | None) -> list[str] | None:
        """Metric names training will log, or None when a part is unknown (already reported)."""
        model_cls = MODELS.get(get(self.cfg, "model.class")) if get(self.cfg, "model.class") in MODELS else None
        if train_loss is None or model_cls is None:
            return None
        names = [f"train_{c}" for c in train_loss.components]
        if get(self.cfg, "val") is not None:
            if val_loss is None:
                return None
            quality = model_cls.metric_names(get(self.cfg, "data.columns") or {})
            names += [f"val_{c}" for c in (*val_loss.components, *quality)]
        return names

    def check_metric(self, path: str, available: list[str] | None, kind: str = "") -> None:
        metric = get(self.cfg, path)
        if not isinstance(metric, str) or available is None or metric in available:
            return
        hint = " (val_* metrics need a val section)" if metric.startswith("val_") and get(self.cfg, "val") is None else ""
        self.add(
            f"{path}: {metric!r} is not a {kind}metric this run logs{hint}{did_you_mean(metric, available)}; "
            f"available: {', '.join(available)}"
        )

    def check_optimizer(self) -> None:
        name = get(self.cfg, "train.optimizer_config.optimizer")
        if not isinstance(name, str):
            return
        optimizers = sorted(
            n for n, o in vars(torch.optim).items() if isinstance(o, type) and issubclass(o, torch.optim.Optimizer) and n != "Optimizer"
        )
        if name not in optimizers:
            self.add(
                f"train.optimizer_config.optimizer: unknown optimizer {name!r}{did_you_mean(name, optimizers)}; "
                f"torch.optim has: {', '.join(optimizers)}"
            )
            return
        extras = {k: v for k, v in get(self.cfg, "train.optimizer_config").items() if k not in ("optimizer", "learning_rate")}
        check_params(extras, getattr(torch.optim, name), "train.optimizer_config", {"self", "params", "lr"}, self.problems)
        learning_rate = get(self.cfg, "train.optimizer_config.learning_rate")
        if is_number(learning_rate) and not (math.isfinite(learning_rate) and learning_rate > 0):
            self.add(f"train.optimizer_config.learning_rate: must be a finite number above 0, got {learning_rate}")

    def check_checkpoint_source(self) -> None:
        why = f"for task={self.task} (the checkpoint to load)"
        self.require("checkpoint", why)
        self.require("checkpoint.path", why)
        self.require("checkpoint.load_strategy", why)
        strategy = get(self.cfg, "checkpoint.load_strategy")
        if isinstance(strategy, str) and not LOAD_STRATEGY.match(strategy):
            self.add(f"checkpoint.load_strategy: {strategy!r} is not one of best, last, epoch_N (e.g. epoch_10)")

    def check_output(self, split: str, why: str) -> None:
        """An output path is required, and its suffix chooses the format: a .npy array or a Parquet table."""
        path = f"{split}.output"
        self.require(path, why)
        value = get(self.cfg, path)
        if isinstance(value, str) and PurePath(value).suffix.lower() not in OUTPUT_SUFFIXES:
            self.add(f"{path}: {value!r} does not end in {', '.join(OUTPUT_SUFFIXES)}; the suffix chooses the format "
                     f"(.npy: an array, .parquet: a table)")

    def check_extract(self) -> None:
        self.check_checkpoint_source()
        present = [s for s in SPLITS if get(self.cfg, s) is not None]
        if not present:
            self.add("train / val / test: task=extract needs at least one split section with data_path and output")
        for split in present:
            self.check_output(split, "for task=extract (where this split's embeddings are written)")

    def check_predict(self) -> None:
        self.check_checkpoint_source()
        self.require("test", "for task=predict")
        if get(self.cfg, "test") is not None:
            self.check_output("test", "for task=predict (where predictions are written)")
        if get(self.cfg, "test.metrics.compute"):
            self.require("test.metrics.loss", "when test.metrics.compute is true")
            if get(self.cfg, "test.metrics.loss"):
                self.check_loss("test.metrics.loss")


def machine_problems(device: Any) -> list[str]:
    """What this machine lacks for ``experiment.device`` (a CUDA device that is not there)."""
    if not isinstance(device, str) or not DEVICE.match(device) or not device.startswith("cuda"):
        return []
    if not torch.cuda.is_available():
        return [
            f"experiment.device: {device!r} but CUDA is not available on this machine; "
            "run on the CPU with the override experiment.device=cpu"
        ]
    if device.startswith("cuda:") and int(device[5:]) >= torch.cuda.device_count():
        return [f"experiment.device: {device!r} but only {torch.cuda.device_count()} CUDA device(s) exist"]
    return []


def check_machine(device: Any) -> None:
    """Raise a ``ConfigError`` when this machine cannot run on ``device``.

    Kept apart from ``validate`` so a task can report it together with the
    problems found by reaching the tracking store and reading the data.
    """
    problems = machine_problems(device)
    if problems:
        raise ConfigError(problems)


def validate(container: Mapping) -> None:
    """Raise one ``ConfigError`` listing every problem of the resolved config ``container``.

    Problems of this machine (``machine_problems``) are listed too when the
    config has others; alone, they are left to the task, which reports them
    with the tracking store and data problems.
    """
    problems = check_structure(container, RootConfig)
    problems += Validator(container).run()
    if problems:
        raise ConfigError(problems + machine_problems(get(container, "experiment.device")))
