"""``python -m vaesae.report FOLDER``: draw the pictures of a finished run or sweep again, without retraining."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vaesae.errors import VaesaeError

log = logging.getLogger("vaesae")


def count(minimum: int):
    """An argparse type: an integer of at least ``minimum``."""

    def integer(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return integer


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m vaesae.report",
        description="Draw the pictures of a finished training run or sweep into FOLDER/figures/ "
        "(a sweep folder: the sweep summary and every job's pictures). Settings default to the run's report section.",
    )
    p.add_argument("folder", type=Path, help="a run folder (config.yaml, metrics.jsonl, checkpoints/) or a sweep folder")
    p.add_argument("--color-by", dest="color_by", help="categorical column colouring the VAE latent projection")
    p.add_argument("--top-features", dest="top_features", type=count(0), help="how many SAE features get a card")
    p.add_argument("--top-rows", dest="top_rows", type=count(1), help="rows listed on each SAE feature card")
    return p


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 when everything was drawn, 1 when some picture failed, 2 when FOLDER cannot be reported on."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from vaesae.report.build import build_report

    try:
        report = build_report(args.folder, color_by=args.color_by, top_features=args.top_features, top_rows=args.top_rows)
    except VaesaeError as error:
        log.error("%s", error)
        return 2
    for path in report.files:
        print(path)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
