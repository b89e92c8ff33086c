"""SurveyMonkey "All responses data", expanded CSV.

Two header rows: the first names each question once, over the first of its
columns; the second labels each column (`Response`, `Open-Ended Response`,
`Other (please specify)`, or a matrix statement). Fixed columns come first:
Respondent ID, Collector ID, Start Date, End Date, IP Address, Email Address,
First Name, Last Name, Custom Data 1. Dates read `03/14/2026 09:41:02 AM`, in
the account's time zone; `N/A` means no answer.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from ingestion.sources.surveys.export import Column, SurveyExport, parse_submissions
from ingestion.sources.surveys.normalise import UnreadableExport, normalise_question, read_csv_records

FORMAT = "surveymonkey"
SUBMITTED_HEADERS = ("end date", "start date")  # the end of a response is its submission


def read_surveymonkey(path: Path, local: tzinfo) -> SurveyExport:
    csv_file = read_csv_records(path)
    if len(csv_file.records) < 2:
        raise UnreadableExport("not a SurveyMonkey export: it needs two header rows")
    (_, top), (_, sub), *data = csv_file.records
    if not top or normalise_question(top[0]) != "respondent id":
        raise UnreadableExport(f'not a SurveyMonkey export: first column is "{top[0][:60]}"')
    columns = []
    question = ""
    for i, text in enumerate(top):
        question = text.strip() or question  # a question spans the blank cells after it
        columns.append(Column(i, question, sub[i].strip() if i < len(sub) else ""))
    headers = [normalise_question(c.question) for c in columns]
    submitted = next((headers.index(h) for h in SUBMITTED_HEADERS if h in headers), None)
    if submitted is None:
        raise UnreadableExport('not a SurveyMonkey export: no "End Date" column')
    rows = parse_submissions(data, submitted, local, day_first_default=False)
    return SurveyExport(FORMAT, columns, rows, csv_file.line_count, skipped=len(data) - len(rows))
