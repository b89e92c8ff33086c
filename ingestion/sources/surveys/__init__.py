"""Survey exports from the landing folder (Google Forms, SurveyMonkey)."""

from ingestion.sources.surveys.land import land_surveys

__all__ = ["land_surveys"]
