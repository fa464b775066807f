"""Benchmarks at scale beside the baselines: `make bench` (see bench/README.md)."""
