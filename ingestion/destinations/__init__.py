"""Where the raw layer goes after the gates: each engine's `ship_raw(staging, target, tables=None)`.

The pipeline lands and checks everything in the local DuckDB staging file first (dlt-style
local staging); a destination module then makes the engine's `raw` schema equal to it.
"""
