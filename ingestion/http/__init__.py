"""The shared HTTP layer every API connector talks through."""

from ingestion.http.session import SourceSession, make_session

__all__ = ["SourceSession", "make_session"]
