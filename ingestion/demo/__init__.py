"""The demo organisation: a year of a fictional company's trackers, surveys and tool usage.

`generate(out_dir)` writes real-format inputs (recorded Jira, GitHub and Okta
API exchanges; survey exports and usage logs in a landing folder; seeds; a
config file) laid out as `docs/architecture.md` describes. Plain Python,
standard library only, deterministic for a given (seed, scale, run_date).
"""

from ingestion.demo.generator import generate

__all__ = ["generate"]
