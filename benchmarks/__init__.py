"""Benchmarks: ratios measured in one run (the machines are noisy), never timed tests."""
