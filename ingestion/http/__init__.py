"""The shared HTTP layer every API connector talks through."""

from ingestion.http.session import SourceSession, connector_errors, make_session

__all__ = ["SourceSession", "connector_errors", "make_session"]
