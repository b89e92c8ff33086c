"""Data-quality gates: what a landed batch must meet before anything downstream reads it.

- `expectations`: the Great Expectations suite of each raw table;
- `source_gates`: every gate of one source (suites, volume, quarantine share, freshness);
- `ledger`: which batches passed, and the rewind of a source whose batch failed;
- `report`: a failed run explained in a few lines.

Dagster wiring lives in `orchestration.defs.checks`; this package knows nothing of Dagster
except `report`, which reads a run's events.
"""
