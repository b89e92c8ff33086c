"""What S, M and L mean: who generates the data and how much of it."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Scale:
    """One benchmark scale.

    `demo_scale` set: the demo generator (`ingestion.demo.generate`) at that
    factor. Otherwise the bulk generator of this package, which writes the
    same formats at volumes the demo generator cannot reach (it keeps every
    record in memory and has 3 600 distinct names).
    """

    name: str
    demo_scale: float | None = None
    people: int = 0
    work_items: int = 0
    usage_events: int = 0
    survey_responses: int = 0

    @property
    def bulk(self) -> bool:
        return self.demo_scale is None


PRESETS = {
    # The default demo organisation (~150 people, 2.5k issues, 92k events).
    "S": Scale("S", demo_scale=1.0),
    # ~10 status changes per work item: ~1M at M, ~10M at L.
    "M": Scale("M", people=2_000, work_items=100_000, usage_events=5_000_000, survey_responses=40_000),
    "L": Scale("L", people=10_000, work_items=1_000_000, usage_events=20_000_000, survey_responses=200_000),
}


def resolve_scale(
    name: str,
    *,
    people: int | None = None,
    work_items: int | None = None,
    usage_events: int | None = None,
    survey_responses: int | None = None,
) -> Scale:
    """`S`, `M`, `L` or a number (the demo generator's scale factor), plus overrides.

    Any override switches to the bulk generator, starting from M's volumes
    when the scale itself is not a bulk preset.
    """
    key = name.strip().upper()
    if key in PRESETS:
        scale = PRESETS[key]
    else:
        try:
            factor = float(name)
        except ValueError:
            raise ValueError(f"scale must be S, M, L or a number, not {name!r}") from None
        if factor <= 0:
            raise ValueError("a numeric scale must be positive")
        scale = Scale(f"{factor:g}", demo_scale=factor)
    overrides = {
        k: v
        for k, v in {
            "people": people,
            "work_items": work_items,
            "usage_events": usage_events,
            "survey_responses": survey_responses,
        }.items()
        if v is not None
    }
    if not overrides:
        return scale
    base = scale if scale.bulk else replace(PRESETS["M"], name=scale.name)
    custom = replace(base, **overrides)
    return replace(custom, name=f"{base.name}-custom", demo_scale=None)
