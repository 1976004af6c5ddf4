"""One row per hostile input: a command line and, where needed, a file made for it.

Every row must end with the expected exit status (2 for anything the user
can fix), a message naming what is wrong, no traceback, and nothing changed
outside the row's own run folder. Rows run through the real entry point
in-process (``tests.in_process``), which is what ``python -m vaesae`` calls;
rows marked ``PROCESS`` run as a real subprocess too, so the in-process path
is checked against the real one.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from tests.checkpoint_files import malicious_pickle, malicious_zip, write_with_digest
from tests.conftest import SMALL_DEMO, cli_env, run_cli
from tests.in_process import run_main
from vaesae.data.demo import write_demo_data
from vaesae.engine.checkpoint_io import save_checkpoint

SECRET = "SENTINEL-hostile-7f3a"
DRY = "dry_run=true"
CPU = "experiment.device=cpu"


@dataclass
class Row:
    id: str
    args: tuple[str, ...]
    fragment: str
    code: int = 2
    make: Callable[[Path], None] | None = None
    process: bool = False
    absent: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------- hostile files, made once per module


def _demo_frame(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / "data" / "train.csv", nrows=400)


def _csv(name: str, change: Callable[[pd.DataFrame], pd.DataFrame], **to_csv) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        change(_demo_frame(project)).to_csv(project / "bad" / name, index=False, **to_csv)

    return make


def _text(name: str, content: str | bytes) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        target = project / "bad" / name
        target.write_bytes(content if isinstance(content, bytes) else content.encode())

    return make


def _with_value(column: str, row: int, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return change


def _bom(project: Path) -> None:
    text = (project / "data" / "train.csv").read_text()
    (project / "bad" / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())


def _duplicate_column(project: Path) -> None:
    frame = _demo_frame(project)
    frame.insert(0, "dup", frame["distance_km"] * 0)
    frame.to_csv(project / "bad" / "duplicate_column.csv", index=False)
    text = (project / "bad" / "duplicate_column.csv").read_text().replace("dup,", "distance_km,", 1)
    (project / "bad" / "duplicate_column.csv").write_text(text)


def _huge_cell(project: Path) -> None:
    frame = _demo_frame(project).head(3)
    frame["channel"] = frame["channel"].astype(object)
    frame.loc[1, "channel"] = "x" * (50 << 20)
    frame.to_csv(project / "bad" / "huge_cell.csv", index=False)


def _decimal_comma(project: Path) -> None:
    _demo_frame(project).to_csv(project / "bad" / "decimal_comma.csv", index=False, sep=";", decimal=",")


def _parquet(name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        pq.write_table(pa.Table.from_pandas(change(_demo_frame(project)), preserve_index=False), project / "bad" / name)

    return make


def _codes_instead_of_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame["channel"] = frame["channel"].astype("category").cat.codes.astype("int64")
    return frame


def _numbers_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    frame["distance_km"] = frame["distance_km"].astype(str)
    frame.loc[5, "distance_km"] = "abc"
    return frame


def _parquet_repeated_column(project: Path) -> None:
    table = pa.Table.from_pandas(_demo_frame(project), preserve_index=False)
    table = table.append_column("channel", table.column("channel"))
    pq.write_table(table, project / "bad" / "repeated_column.parquet")


def _cardinalities(name: str, text: str | Callable[[dict], dict]) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        content = text if isinstance(text, str) else json.dumps(text(json.loads((project / "data" / "cardinalities.json").read_text())))
        (project / "bad" / name).write_text(content)

    return make


def _set(column: str, value) -> Callable[[dict], dict]:
    def change(mapping: dict) -> dict:
        mapping[column] = value
        return mapping

    return change


REPEATED_KEY = ('{"channel": {"online": 0, "store": 1, "mobile": 2, "atm": 3, "online": 3}, '
                '"merchant_type": {"grocery": 0}, "country_code": {"US": 0}}')


def _checkpoint_bytes(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _checkpoint(name: str, damage: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        folder = project / "bad" / name
        folder.mkdir()
        damage(folder / "best_model.pt")

    return make


def _format_version_only(path: Path) -> None:
    write_with_digest(path, _checkpoint_bytes({"format_version": 1}))


def _flipped_without_digest_update(path: Path) -> None:
    save_checkpoint(path, {"model_state": {"w": torch.zeros(64)}, "epoch": 1})
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    data = _checkpoint_bytes({"format_version": 1, "model_state": {"w": torch.zeros(64)}})
    write_with_digest(path, data[: len(data) // 2])


def _without_digest(path: Path) -> None:
    path.write_bytes(_checkpoint_bytes({"format_version": 1}))


def _foreign_torch_file(path: Path) -> None:
    write_with_digest(path, _checkpoint_bytes({"weight": torch.zeros(2)}))


def _live_lock(project: Path) -> None:
    folder = project / "experiments" / "vae" / "locked"
    folder.mkdir(parents=True)
    (folder / ".vaesae.lock").write_text(json.dumps({"host": os.uname().nodename, "pid": os.getpid()}))


# ---------------------------------------------------------------- the rows

ROWS = [
    # config values
    Row("epochs_zero", ("train.epochs=0",), "train.epochs"),
    Row("epochs_negative", ("train.epochs=-3",), "train.epochs"),
    Row("batch_size_zero", ("train.loader_params.batch_size=0",), "train.loader_params.batch_size"),
    Row("val_batch_size_zero", ("val.loader_params.batch_size=0",), "val.loader_params.batch_size"),
    Row("unknown_model_class", ("model.class=VEA",), "unknown model 'VEA'"),
    Row("unknown_loss_class", ("train.loss.class=MSE",), "train.loss.class"),
    Row("unknown_val_loss_class", ("val.loss.class=MSE",), "val.loss.class"),
    Row("unknown_optimizer", ("train.optimizer_config.optimizer=Adamm",), "unknown optimizer 'Adamm'"),
    Row("optimizer_parameter_typo", ("+train.optimizer_config.momentun=0.9",), "momentun"),
    Row("model_parameter_typo", ("+model.params.latent_dimm=4",), "latent_dimm"),
    Row("model_parameter_type", ("model.params.latent_dim=abc",), "model.params.latent_dim"),
    Row("loss_parameter_typo", ("+train.loss.params.betta=1",), "betta"),
    Row("unknown_loader_class", ("train.loader_class=CsvLoader",), "train.loader_class"),
    Row("loader_parameter_typo", ("+train.loader_params.shufle=true",), "shufle"),
    Row("checkpoint_metric_unknown", ("checkpoint.metric=val_accuracy",), "checkpoint.metric"),
    Row("checkpoint_mode", ("checkpoint.mode=up",), "checkpoint.mode"),
    Row("save_strategy", ("checkpoint.save_strategy=sometimes",), "checkpoint.save_strategy"),
    Row("load_strategy", ("task=extract", "checkpoint.load_strategy=newest"), "checkpoint.load_strategy"),
    Row("device_unknown", ("experiment.device=tpu",), "experiment.device"),
    Row("device_cuda_missing", ("experiment.device=cuda:7",), "experiment.device"),
    Row("val_frequency_zero", ("val.frequency=0",), "val.frequency"),
    Row("patience_zero", ("val.early_stopping.patience=0",), "val.early_stopping.patience"),
    Row("direction", ("val.early_stopping.direction=sideways",), "val.early_stopping.direction"),
    Row("numerical_column_unknown", ("data.columns.numerical=[amount]", DRY), "missing column(s) 'amount'"),
    Row("categorical_column_unknown", ("data.columns.categorical=[shop]",), "shop"),
    Row("report_color_by", ("report.color_by=nope",), "report.color_by"),
    Row("plugin_missing", ("plugins=[no_such_plugin_module]",), "no_such_plugin_module"),
    Row("task_extract_no_checkpoint", ("task=extract", "checkpoint.path=nowhere"), "nowhere"),
    Row("task_predict_no_checkpoint", ("task=predict", "checkpoint.path=nowhere"), "nowhere"),
    Row("resume_missing_file", ("checkpoint.resume=nowhere/best_model.pt", DRY), "nowhere/best_model.pt does not exist"),
    Row("resume_force_not_boolean", ("checkpoint.resume_force=maybe",), "checkpoint.resume_force"),
    Row("dry_run_not_boolean", ("dry_run=perhaps",), "dry_run"),
    # config values the validator of the core reshaping will check
    Row("num_workers_thousands", ("train.loader_params.num_workers=5000", DRY), "num_workers"),
    Row("beta_negative", ("train.loss.params.beta=-1", DRY), "beta"),
    Row("learning_rate_inf", ("train.optimizer_config.learning_rate=inf", DRY), "learning_rate"),
    Row("early_stopping_train_metric", ("val.early_stopping.metric=train_loss", DRY), "val.early_stopping.metric"),
    Row("seed_overflow", ("experiment.seed=99999999999999999999", DRY), "experiment.seed"),
    Row("override_syntax", ("train.epochs=[1,",), "train.epochs"),
    Row("epochs_not_a_number", ("train.epochs=ten",), "train.epochs"),
    Row("key_typo", ("train.epoch=3",), "train.epoch"),
    Row("config_group_unknown", ("model=vea",), "model"),
    Row("mlflow_key_without_section", ("mlflow.tracking_uri=sqlite:///x.db",), "mlflow"),
    # paths
    Row("name_escapes_output_dir", ("experiment.output_dir=out/a/b", "experiment.name=../../../escaped_run"),
        "is not inside out/a/b", process=True),
    Row("name_absolute", ("experiment.name=/tmp/vaesae-hostile-abs",), "is not inside"),
    Row("name_parent", ("experiment.name=..",), "is not inside"),
    Row("name_dot_dot_inside", ("experiment.name=a/../../b",), "is not inside"),
    Row("output_dir_unwritable", ("experiment.output_dir=/proc/vaesae",), "not writable"),
    Row("extract_output_is_folder", ("task=extract", "checkpoint.path=bad/format_version_only", "train.output=bad"),
        "bad"),
    # credentials: the secret never appears in the output, whatever else goes wrong
    Row("secret_key_with_bad_epochs", ("+tracking=local", f"mlflow.credentials.password={SECRET}", "train.epochs=0"),
        "train.epochs", absent=(SECRET,)),
    Row("secret_mapping_with_bad_epochs", ("+tracking=local", f"mlflow.credentials={{username:u,password:{SECRET}}}",
                                           "train.epochs=0"), "train.epochs", absent=(SECRET,)),
    Row("secret_whole_section", (f"+mlflow={{tracking_uri:'sqlite:///x.db',experiment_name:e,credentials:{{password:{SECRET}}}}}",
                                 "train.epochs=0"), "train.epochs", absent=(SECRET,)),
    Row("tracking_unreachable", ("+tracking=local", "mlflow.tracking_uri=http://127.0.0.1:9", "mlflow.preflight_timeout_s=0.5", DRY),
        "127.0.0.1:9 cannot be reached"),
    # concurrency
    Row("folder_locked_by_live_process", ("experiment.name=locked",), "in use by another vaesae process",
        make=_live_lock),
    # checkpoints
    Row("checkpoint_format_version_only", ("task=extract", "checkpoint.path=bad/format_version_only"),
        "lacks model_class, model_params", process=True, make=_checkpoint("format_version_only", _format_version_only)),
    Row("checkpoint_flipped_byte", ("task=extract", "checkpoint.path=bad/flipped"), "SHA-256 does not match",
        make=_checkpoint("flipped", _flipped_without_digest_update)),
    Row("checkpoint_truncated", ("task=extract", "checkpoint.path=bad/truncated"), "not a vaesae checkpoint",
        make=_checkpoint("truncated", _truncated)),
    Row("checkpoint_without_digest", ("task=extract", "checkpoint.path=bad/no_digest"), "no SHA-256 recorded",
        make=_checkpoint("no_digest", _without_digest)),
    Row("checkpoint_foreign_torch_file", ("task=extract", "checkpoint.path=bad/foreign"), "not a vaesae checkpoint",
        make=_checkpoint("foreign", _foreign_torch_file)),
    Row("checkpoint_malicious_zip", ("task=extract", "checkpoint.path=bad/evil_zip"), "refused to load",
        make=_checkpoint("evil_zip", lambda path: malicious_zip(path, path.parent / "MARKER"))),
    Row("checkpoint_bare_pickle", ("task=extract", "checkpoint.path=bad/evil_pickle"), "not a vaesae checkpoint",
        make=_checkpoint("evil_pickle", lambda path: malicious_pickle(path, path.parent / "MARKER"))),
    Row("checkpoint_empty", ("task=extract", "checkpoint.path=bad/empty"), "empty",
        make=_checkpoint("empty", lambda path: write_with_digest(path, b""))),
    Row("checkpoint_text", ("task=extract", "checkpoint.path=bad/text"), "not a vaesae checkpoint",
        make=_checkpoint("text", lambda path: write_with_digest(path, b"model: VAE\n"))),
    Row("checkpoint_folder_empty", ("task=extract", "checkpoint.path=bad/no_checkpoints"), "bad/no_checkpoints",
        make=lambda project: (project / "bad" / "no_checkpoints").mkdir()),
    Row("resume_from_foreign_file", ("checkpoint.resume=bad/foreign/best_model.pt", DRY), "not a vaesae checkpoint"),
    # data files (dry runs read them in full)
    Row("data_missing", ("train.data_path=bad/none.csv", DRY), "none.csv"),
    Row("val_data_missing", ("val.data_path=bad/none.csv", DRY), "none.csv"),
    Row("data_is_folder", ("train.data_path=bad", DRY), "bad"),
    Row("data_unsupported_type", ("train.data_path=bad/table.xlsx", DRY), "unsupported file type '.xlsx'",
        make=_text("table.xlsx", b"PK\x03\x04")),
    Row("data_empty", ("train.data_path=bad/empty.csv", DRY), "file is empty", make=_text("empty.csv", "")),
    Row("data_header_only", ("train.data_path=bad/header_only.csv", DRY), "no data rows",
        make=_csv("header_only.csv", lambda frame: frame.head(0))),
    Row("data_missing_column", ("train.data_path=bad/missing_column.csv", DRY), "missing column(s) 'distance_km'",
        make=_csv("missing_column.csv", lambda frame: frame.drop(columns="distance_km"))),
    Row("data_semicolons", ("train.data_path=bad/semicolons.csv", DRY), "looks semicolon-separated",
        make=_csv("semicolons.csv", lambda frame: frame, sep=";")),
    Row("data_decimal_comma", ("train.data_path=bad/decimal_comma.csv", DRY), "looks semicolon-separated",
        make=_decimal_comma),
    Row("data_tabs", ("train.data_path=bad/tabs.csv", DRY), "looks tab-separated",
        make=_csv("tabs.csv", lambda frame: frame, sep="\t")),
    Row("data_bom_is_read", ("train.data_path=bad/bom.csv", DRY), "dry run: task=train", code=0, make=_bom),
    Row("data_duplicate_column", ("train.data_path=bad/duplicate_column.csv", DRY), "'distance_km' appear more than once",
        process=True, make=_duplicate_column),
    Row("data_text_in_numbers", ("train.data_path=bad/abc.csv", DRY), "1 non-numeric value(s) (e.g. 'abc')",
        make=_csv("abc.csv", _with_value("distance_km", 7, "abc"))),
    Row("data_empty_number", ("train.data_path=bad/blank.csv", DRY), "1 missing, NaN or infinite",
        make=_csv("blank.csv", _with_value("distance_km", 7, None))),
    Row("data_infinite_number", ("train.data_path=bad/inf.csv", DRY), "missing, NaN or infinite",
        make=_csv("inf.csv", _with_value("distance_km", 7, "inf"))),
    Row("data_overflows_float32", ("train.data_path=bad/huge_number.csv", DRY), "too large for float32 (e.g. 1e+300",
        make=_csv("huge_number.csv", _with_value("distance_km", 7, "1e300"))),
    Row("data_numbers_in_label_column", ("train.data_path=bad/numeric_labels.csv", DRY), "no row has a label of the cardinalities map",
        make=_csv("numeric_labels.csv", lambda frame: frame.assign(channel=frame["channel"].astype("category").cat.codes))),
    Row("data_label_column_empty", ("train.data_path=bad/no_labels.csv", DRY), "every row is empty",
        make=_csv("no_labels.csv", lambda frame: frame.assign(channel=None))),
    Row("data_numeric_column_as_category", ("data.columns.categorical=[distance_km]", DRY), "listed twice"),
    Row("data_huge_cell", ("train.data_path=bad/huge_cell.csv", DRY), "a single row is longer than", make=_huge_cell),
    Row("data_not_utf8", ("train.data_path=bad/latin1.csv", DRY), "not UTF-8",
        make=_text("latin1.csv", "log_amount_normalized,distance_km,transaction_hour,channel,merchant_type,pays\xe9\n".encode("latin-1"))),
    Row("data_binary_garbage", ("train.data_path=bad/garbage.csv", DRY), "garbage.csv",
        make=_text("garbage.csv", bytes(range(256)) * 4)),
    Row("data_ragged_rows", ("train.data_path=bad/ragged.csv", DRY), "cannot parse CSV",
        make=_text("ragged.csv", "log_amount_normalized,distance_km,transaction_hour,channel,merchant_type,country_code\n"
                                 "1,2,3,store,grocery,US\n1,2,3,store\n")),
    Row("parquet_codes_instead_of_labels", ("train.data_path=bad/codes.parquet", DRY), "holds numbers such as",
        make=_parquet("codes.parquet", _codes_instead_of_labels)),
    Row("parquet_numbers_as_text", ("train.data_path=bad/numbers_as_text.parquet", DRY), "1 non-numeric value(s) (e.g. 'abc')",
        make=_parquet("numbers_as_text.parquet", _numbers_as_text)),
    Row("parquet_missing_column", ("train.data_path=bad/missing.parquet", DRY), "missing column(s) 'channel'",
        make=_parquet("missing.parquet", lambda frame: frame.drop(columns="channel"))),
    Row("parquet_repeated_column", ("train.data_path=bad/repeated_column.parquet", DRY), "'channel' appear more than once",
        make=_parquet_repeated_column),
    Row("parquet_garbage", ("train.data_path=bad/garbage.parquet", DRY), "garbage.parquet",
        make=_text("garbage.parquet", b"PAR1 not really parquet")),
    # cardinalities
    Row("cardinalities_missing", ("data.cardinalities_path=bad/none.json", DRY), "none.json not found"),
    Row("cardinalities_shared_code", ("data.cardinalities_path=bad/shared.json", DRY), "share code 0",
        make=_cardinalities("shared.json", _set("channel", {"online": 0, "store": 0, "mobile": 2, "atm": 3}))),
    Row("cardinalities_repeated_key", ("data.cardinalities_path=bad/repeated.json", DRY), "'online' appear more than once",
        make=_cardinalities("repeated.json", REPEATED_KEY)),
    Row("cardinalities_invalid_json", ("data.cardinalities_path=bad/invalid.json", DRY), "not valid JSON",
        make=_cardinalities("invalid.json", "{channel: [")),
    Row("cardinalities_negative_code", ("data.cardinalities_path=bad/negative.json", DRY), "non-negative integers",
        make=_cardinalities("negative.json", _set("channel", {"online": -1}))),
    Row("cardinalities_text_code", ("data.cardinalities_path=bad/text_code.json", DRY), "non-negative integers",
        make=_cardinalities("text_code.json", _set("channel", {"online": "0"}))),
    Row("cardinalities_column_missing", ("data.cardinalities_path=bad/no_channel.json", DRY), "'channel'",
        make=_cardinalities("no_channel.json", lambda mapping: {k: v for k, v in mapping.items() if k != "channel"})),
    Row("cardinalities_empty_column", ("data.cardinalities_path=bad/empty_column.json", DRY), "'channel'",
        make=_cardinalities("empty_column.json", _set("channel", {}))),
    Row("cardinalities_list", ("data.cardinalities_path=bad/list.json", DRY), "no mapping",
        make=_cardinalities("list.json", "[1, 2, 3]")),
]


def _run_folder(row: Row) -> str:
    """The run folder a row may write into: its own name unless the row sets one."""
    given = dict(arg.split("=", 1) for arg in row.args if arg.startswith("experiment."))
    return os.path.normpath(os.path.join(given.get("experiment.output_dir", "experiments/vae"),
                                         given.get("experiment.name", row.id)))


def _args(row: Row) -> list[str]:
    named = any(arg.startswith("experiment.name=") for arg in row.args)
    return [CPU, *row.args, *([] if named else [f"experiment.name={row.id}"])]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project folder: the small demo data in data/, every hostile file of the table in bad/."""
    root = tmp_path_factory.mktemp("hostile") / "project"
    write_demo_data(root / "data", **SMALL_DEMO)
    (root / "bad").mkdir()
    for row in ROWS:
        if row.make is not None:
            row.make(root)
    return root


@pytest.fixture
def demo_env(project, monkeypatch):
    monkeypatch.setenv("VAESAE_DEMO_DIR", str(project / "data"))
    yield
    for name in [name for name in os.environ if name.startswith("VAESAE_SECRET_")]:
        del os.environ[name]


def _check(row: Row, code: int, output: str, before: dict, after: dict, project: Path) -> None:
    assert code == row.code, output
    assert row.fragment in output, output
    assert "Traceback" not in output, output
    for text in row.absent:
        assert text not in output
    own = _run_folder(row) + os.sep
    changed = sorted(name for name in before.keys() | after.keys()
                     if before.get(name) != after.get(name) and not name.startswith(own))
    assert changed == [], f"changed outside {own}: {changed}"
    assert sorted(p.name for p in project.parent.iterdir()) == ["project"]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_hostile_input_in_process(row, project, demo_env):
    before = _snapshot(project)
    outcome = run_main(*_args(row), cwd=project)
    _check(row, outcome.code, outcome.output, before, _snapshot(project), project)


@pytest.mark.parametrize("row", [row for row in ROWS if row.process], ids=lambda row: row.id)
def test_hostile_input_as_a_real_process(row, project, demo_env):
    before = _snapshot(project)
    result = run_cli(*_args(row), cwd=project, env=cli_env(VAESAE_DEMO_DIR=str(project / "data")))
    _check(row, result.returncode, result.stdout + result.stderr, before, _snapshot(project), project)


def test_the_table_is_large_enough():
    assert len(ROWS) >= 80 and len({row.id for row in ROWS}) == len(ROWS)
