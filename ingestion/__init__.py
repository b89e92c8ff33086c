"""Plain-Python ingestion: connectors, the raw-layer loader and the demo organisation.

No Dagster here, so every piece can be tested and reused alone.
"""
