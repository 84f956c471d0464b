"""Benchmarks and the quality gate; a package so that tests import bench.quality and bench.scorer."""
