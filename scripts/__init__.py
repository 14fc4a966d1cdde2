"""Tools run by hand or by the benchmarks and the end-to-end tests (``scripts.harness``)."""
