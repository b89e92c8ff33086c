"""The Dagster code location of the Product Ops Warehouse."""
