"""The demo's `productops.toml`: pipeline thresholds, usage fields, survey mappings."""

from __future__ import annotations

from pathlib import Path

from ingestion.demo.files import write_text
from ingestion.demo.surveys import (
    FORMS_ZONE,
    LIKERT,
    MONKEY_ZONE,
    RECOMMEND_QUESTION,
    TEAM_QUESTION,
)

HEADER = """\
# Configuration of the demo organisation, written by `productops demo`.
# Secrets never go here: they come from the environment.

[pipeline]
rejected_share_threshold = 0.01   # fails the run above this share per source
anonymity_threshold = 5

[usage]                            # field names in usage logs (JSONL / CSV / .gz)
timestamp = "timestamp"
user_email = "user_email"
tool = "tool"
event = "event"
event_id = "event_id"
"""


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _survey(survey_id: str, export: str, files: str, time_zone: str, respondent: str, comment: str) -> str:
    lines = [
        "",
        f"# {comment}",
        "[[surveys]]",
        f"id = {_toml_string(survey_id)}",
        f"format = {_toml_string(export)}",
        f"files = {_toml_string(files)}",
        f"time_zone = {_toml_string(time_zone)}",
        'wave_from = "filename"',
        "wave_pattern = '(\\d{4}-Q[1-4])'",
        f"respondent_question = {_toml_string(respondent)}",
        f"team_question = {_toml_string(TEAM_QUESTION)}",
        f"recommend_question = {_toml_string(RECOMMEND_QUESTION)}",
        "recommend_scale = [0, 10]",
    ]
    for item_id, question in LIKERT:
        lines += [
            "",
            "[[surveys.likert]]",
            f"id = {_toml_string(item_id)}",
            f"question = {_toml_string(question)}",
            "scale = [1, 5]",
        ]
    return "\n".join(lines) + "\n"


def write_config(path: Path) -> None:
    text = HEADER
    text += _survey(
        "pulse_gforms",
        "google_forms",
        "pulse-gforms-*.csv",
        FORMS_ZONE,
        "Email address",
        "Team pulse, Google Forms exports (older waves).",
    )
    text += _survey(
        "pulse_surveymonkey",
        "surveymonkey",
        "pulse-surveymonkey-*.csv",
        MONKEY_ZONE,
        "Email Address",
        "Team pulse, SurveyMonkey exports (newer waves).",
    )
    write_text(path, text)
