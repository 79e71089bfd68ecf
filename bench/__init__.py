"""Samenspel's load generator and benchmark suite: `python -m bench.run [--quick]`."""
