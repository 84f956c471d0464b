"""Test support: loopback fake servers (chat completions, the Batch API), each run in its own process.

Tests import them as ``tests.support.fake_server`` and ``tests.support.fake_batch``; the benchmarks in
bench/ and the recording scripts in scripts/ import them from here too.
"""
