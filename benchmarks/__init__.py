"""On-demand benchmarks (``python -m benchmarks``); not part of the test suite."""
