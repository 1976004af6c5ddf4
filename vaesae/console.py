"""The process entry point of ``vaesae`` and ``python -m vaesae``: ``vaesae.app.main`` with the
cyclic garbage collector set for a command that starts, runs and exits.

Importing torch, Hydra and the rest leaves about 200,000 objects that live until
the process ends. Every full collection walks all of them, several run while they
are being imported, and the interpreter walks them once more as it exits: on a
2-core machine that cost a one-epoch run 2.6 s (README, "Start-up and exit").
None of them is garbage. So the collector is off while vaesae's modules load,
what they created is then frozen (``gc.freeze`` moves it where no later
collection looks), and what the command leaves is frozen before the interpreter
exits. Nothing relies on the collector to finish its work: files and tracking
runs are closed by the code that opens them.

``vaesae.app.main`` leaves the collector alone, so a program that calls it in its
own process (the tests do) keeps its own collection.
"""
import gc


def main() -> None:
    gc.disable()
    try:
        from vaesae.app import main as run_command

        gc.freeze()
        gc.enable()
        run_command()
    finally:
        gc.freeze()
