"""Speed and memory benchmarks of vaesae against the hardware limit and the usual alternatives.

Run everything with ``python -m benchmarks.suite`` (``--quick`` for a short smoke run).
"""
