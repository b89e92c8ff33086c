"""Survey results: Google Forms and SurveyMonkey exports, Typeform's Responses API."""

from ingestion.sources.surveys.land import land_surveys

__all__ = ["land_surveys"]
