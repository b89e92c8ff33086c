"""Google Forms CSV exports ("Download responses" or a Sheets download).

One header row whose first column is the submission time, named in the form
owner's language (`Timestamp`, `Horodateur`, …) and written as a local wall
clock time without zone: `3/14/2026 9:41:02` (US) or `14/03/2026 09:41`
(French; an Excel re-save also drops the seconds).
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from ingestion.sources.surveys.export import Column, SurveyExport, parse_submissions
from ingestion.sources.surveys.normalise import UnreadableExport, normalise_question, read_csv_records

FORMAT = "google_forms"

# The submission-time column in the languages Google Forms exports in; all but
# English write dates day first.
TIMESTAMP_HEADERS = {
    "timestamp": False,
    "horodateur": True,
    "marca temporal": True,
    "zeitstempel": True,
    "carimbo de data/hora": True,
    "informazioni cronologiche": True,
    "tijdstempel": True,
}


def read_google_forms(path: Path, local: tzinfo) -> SurveyExport:
    csv_file = read_csv_records(path)
    if not csv_file.records:
        raise UnreadableExport("the file is empty")
    (_, header), *data = csv_file.records
    first = normalise_question(header[0]) if header else ""
    if first not in TIMESTAMP_HEADERS:
        raise UnreadableExport(f'not a Google Forms export: first column is "{header[0][:60]}"')
    columns = [Column(i, text) for i, text in enumerate(header)]
    rows = parse_submissions(data, 0, local, day_first_default=TIMESTAMP_HEADERS[first])
    return SurveyExport(FORMAT, columns, rows, csv_file.line_count, skipped=len(data) - len(rows))
