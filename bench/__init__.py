"""Benchmarks: timings are reported here, never asserted in tests (docs/quality.md)."""
