"""Dagster definitions, one module per concern."""

# No `from __future__ import annotations` in this package: Dagster reads the
# `context` annotation as a type, and a string annotation fails its check.
