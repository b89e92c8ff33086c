"""Answer labels as survey tools export them, and the scores they stand for.

SurveyMonkey exports a matrix answer as its label ("Strongly agree"), Google
Forms a multiple-choice answer as its text, Typeform an opinion scale as a
number; exports reach us in English and in French. Built-in scales give the
usual five-point labels a score on 1–5 (they apply to items scored 1–5 only);
a survey's `labels` and an item's `labels` in the TOML add or override labels
(`labels = { "Mostly agree" = 4 }`). Labels are compared after
`normalise_question` (case, typographic quotes, spaces).
"""

from __future__ import annotations

from collections.abc import Mapping

from ingestion.sources.surveys.normalise import is_no_answer, normalise_question, parse_number

# The scale the built-in labels score on.
BUILT_IN_RANGE = (1.0, 5.0)

_AGREEMENT = {
    1: ["Strongly disagree", "Totally disagree", "Pas du tout d'accord", "Tout à fait en désaccord",
        "Fortement en désaccord", "Totalement en désaccord"],
    2: ["Disagree", "Somewhat disagree", "Pas d'accord", "Plutôt pas d'accord", "Plutôt en désaccord",
        "En désaccord"],
    3: ["Neither agree nor disagree", "Neutral", "Ni d'accord ni pas d'accord",
        "Ni d'accord, ni pas d'accord", "Ni en accord ni en désaccord", "Neutre"],
    4: ["Agree", "Somewhat agree", "D'accord", "Plutôt d'accord", "En accord"],
    5: ["Strongly agree", "Totally agree", "Tout à fait d'accord", "Totalement d'accord",
        "Fortement d'accord", "Entièrement d'accord"],
}  # fmt: skip
_SATISFACTION = {
    1: ["Very dissatisfied", "Very unsatisfied", "Très insatisfait", "Très insatisfaite",
        "Pas du tout satisfait", "Pas du tout satisfaite"],
    2: ["Dissatisfied", "Somewhat dissatisfied", "Unsatisfied", "Insatisfait", "Insatisfaite",
        "Plutôt insatisfait", "Plutôt insatisfaite", "Peu satisfait", "Peu satisfaite"],
    3: ["Neither satisfied nor dissatisfied", "Ni satisfait ni insatisfait", "Ni satisfaite ni insatisfaite"],
    4: ["Satisfied", "Somewhat satisfied", "Satisfait", "Satisfaite", "Plutôt satisfait",
        "Plutôt satisfaite"],
    5: ["Very satisfied", "Extremely satisfied", "Très satisfait", "Très satisfaite"],
}  # fmt: skip

BUILT_IN: dict[str, float] = {
    normalise_question(label): float(score)
    for scale in (_AGREEMENT, _SATISFACTION)
    for score, labels in scale.items()
    for label in labels
}


def label_scores(scale: tuple[float, float], *overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Normalised label → score for an item: the built-ins when it is scored
    1–5, then each override in turn (later ones win)."""
    scores = dict(BUILT_IN) if tuple(map(float, scale)) == BUILT_IN_RANGE else {}
    for labels in overrides:
        scores.update({normalise_question(k): float(v) for k, v in (labels or {}).items()})
    return scores


def parse_answer(text: str, labels: Mapping[str, float]) -> float | None:
    """A scored answer: None when blank or a no-answer ("N/A", "Don't know"), the
    leading number ("5 - Strongly agree" → 5), else the score of its label.
    Raises ValueError when it is none of these."""
    if is_no_answer(text):
        return None
    try:
        return parse_number(text)
    except ValueError:
        score = labels.get(normalise_question(text))
        if score is None:
            raise ValueError("not a number or a known label") from None
        return score
