"""What MLflow tracking costs a training run, per store, and how fast an unreachable server is found.

    python benchmarks/tracking_overhead.py [--server http://127.0.0.1:5000] [--epochs 50]

For each store it opens a session as a training run does, starts a run and
logs one epoch's worth of metrics (the VAE's 20 names) per step, timing each
call; for a closed port it times the preflight. Credentials for ``--server``
come from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD.
"""
from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from pathlib import Path

from vaesae.errors import VaesaeError
from vaesae.tracking.run import TrackedRun
from vaesae.tracking.session import open_session, preflight
from vaesae.tracking.settings import TrackingSettings

METRIC_NAMES = [f"metric_{i}" for i in range(20)]


def settings(uri: str) -> TrackingSettings:
    return TrackingSettings(uri, "tracking-overhead", None, None, "fail")


def per_epoch_ms(uri: str, epochs: int) -> tuple[float, float, float]:
    """Seconds to open the store, then median and 95th percentile milliseconds of one epoch's logging."""
    started = time.perf_counter()
    session = open_session(settings(uri))
    opened = time.perf_counter() - started
    run = TrackedRun(session, "overhead", {}, {})
    run.start()
    timings = []
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        run.log_metrics(dict.fromkeys(METRIC_NAMES, float(epoch)), step=epoch)
        timings.append((time.perf_counter() - started) * 1000)
    run.finish(None)
    timings.sort()
    return opened, statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def closed_port_seconds() -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    try:
        preflight(settings(f"http://127.0.0.1:{port}"))
    except VaesaeError:
        return time.perf_counter() - started
    raise SystemExit("a closed port was reported reachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", help="an MLflow server URI to include")
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        stores = {"sqlite (fresh)": f"sqlite:///{Path(folder) / 'mlflow.db'}", "file": (Path(folder) / "mlruns").as_uri()}
        if args.server:
            stores["server"] = args.server
        print(f"{'store':<16} {'open s':>8} {'median ms/epoch':>16} {'p95 ms/epoch':>13}")
        for name, uri in stores.items():
            opened, median, p95 = per_epoch_ms(uri, args.epochs)
            print(f"{name:<16} {opened:>8.2f} {median:>16.1f} {p95:>13.1f}")
    print(f"closed port found by the preflight in {closed_port_seconds():.3f} s")


if __name__ == "__main__":
    main()
