"""Every chart of the dashboard and the report, each defined once (Plotly figures).

A function takes the frames a page read from the marts and returns a figure; it
computes nothing a mart already defines. Partial periods (`is_complete` false)
are shaded and labelled "under way" on every time axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

TEMPLATE = "productops"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
TEAM, ORG_COLOR, GOOD, BAD, HIDDEN = "#2563eb", "#9ca3af", "#059669", "#dc2626", "#d1d5db"
PERCENTILE_STYLE = {50: ("#059669", "dot"), 85: ("#d97706", "dash"), 95: ("#dc2626", "dashdot")}
PALETTE = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626", "#475569"]

pio.templates[TEMPLATE] = go.layout.Template(
    layout=go.Layout(
        template=pio.templates["plotly_white"],
        # System fonts only: the report must open offline.
        font={
            "family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
            "size": 13,
            "color": INK,
        },
        colorway=PALETTE,
        # The title sits in the top margin, the legend between it and the plot.
        margin={"l": 56, "r": 24, "t": 84, "b": 44},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.03, "xanchor": "left", "x": 0, "title": None},
        hoverlabel={"bgcolor": "white"},
        xaxis={"gridcolor": GRID, "zeroline": False, "automargin": True},
        yaxis={"gridcolor": GRID, "zeroline": False, "automargin": True},
        title={"x": 0.01, "xanchor": "left", "y": 0.985, "yanchor": "top", "font": {"size": 16}},
    )
)
HEIGHT = 380
# Small multiples carry their panel titles where a top legend would go.
SIDE_LEGEND = {"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02}


def _figure(title: str, height: int = HEIGHT) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, title=title, height=height)
    return fig


def empty(title: str, message: str) -> go.Figure:
    """A chart with nothing to plot says why, instead of an empty frame."""
    fig = _figure(title, height=220)
    fig.add_annotation(
        text=message,
        showarrow=False,
        font={"color": MUTED, "size": 14},
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def mark_partial(fig: go.Figure, frame: pd.DataFrame, x: str, days: int, **axes) -> None:
    """Shade each period still under way (`is_complete` false) and say so."""
    if "is_complete" not in frame:
        return
    for start in sorted(set(frame.loc[~frame["is_complete"].astype(bool), x])):
        start = pd.Timestamp(start)
        fig.add_vrect(
            x0=start - timedelta(days=days / 2),
            x1=start + timedelta(days=days / 2),
            fillcolor="#fde68a",
            opacity=0.35,
            line_width=0,
            layer="below",
            annotation_text="under way",
            annotation_position="top left",
            annotation_font={"size": 11, "color": "#92400e"},
            **axes,
        )


def percentile_lines(fig: go.Figure, percentiles: dict[int, float | None], unit: str = "d") -> None:
    """The ActionableAgile convention: 50th, 85th and 95th percentile as labelled horizontal lines."""
    for pct, value in percentiles.items():
        if value is None or pd.isna(value):
            continue
        color, dash = PERCENTILE_STYLE[pct]
        fig.add_hline(
            y=value,
            line={"color": color, "dash": dash, "width": 1.5},
            annotation_text=f"{pct}th: {value:.1f} {unit}",
            annotation_position="top right",
            annotation_font={"color": color, "size": 12},
        )


# -- scorecard --------------------------------------------------------------------------


def kpi_trends(
    frame: pd.DataFrame, kpis: Sequence[tuple[str, str, str | None]], team_label: str
) -> go.Figure:
    """Small multiples, one per headline KPI: the team's month by month beside the organisation's.

    `frame` has month_start, is_complete, `who` ("team" / "org") and one column per KPI; each KPI
    is (column, label, d3 tick format or None).
    """
    if frame.empty:
        return empty("Headline KPIs by month", "no months in this period")
    cols = 3
    rows = -(-len(kpis) // cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[label for _, label, _ in kpis],
        vertical_spacing=0.16,
        horizontal_spacing=0.07,
    )
    in_legend = set()
    for i, (column, _, tickformat) in enumerate(kpis):
        row, col = i // cols + 1, i % cols + 1
        for who, name, color in (("org", "Organisation", ORG_COLOR), ("team", team_label, TEAM)):
            part = frame[frame["who"] == who].sort_values("month_start")
            if part.empty or part[column].isna().all():
                continue
            fig.add_trace(
                go.Scatter(
                    x=part["month_start"],
                    y=part[column],
                    name=name,
                    mode="lines+markers",
                    line={"color": color, "width": 2.5 if who == "team" else 1.5},
                    legendgroup=who,
                    showlegend=who not in in_legend,
                    hovertemplate=f"{name}<br>%{{x|%b %Y}}: %{{y:{tickformat or '.3~f'}}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
            in_legend.add(who)
        fig.update_yaxes(tickformat=tickformat or "", row=row, col=col)
        mark_partial(fig, frame, "month_start", 30, row=row, col=col)
    fig.update_layout(
        template=TEMPLATE,
        title="Headline KPIs by month: team beside organisation",
        height=260 * rows + 90,
        legend=SIDE_LEGEND,
        margin={"t": 80, "r": 150},
    )
    fig.update_xaxes(tickformat="%b %y", nticks=5)
    fig.update_annotations(font_size=13)
    return fig


# -- delivery ---------------------------------------------------------------------------


def cycle_time_scatter(items: pd.DataFrame, percentiles: dict[int, float | None]) -> go.Figure:
    """Finished items: when each finished and its cycle time in days, with percentile lines."""
    title = "Cycle time of finished items (days)"
    if items.empty:
        return empty(title, "no item finished in this period")
    fig = _figure(title, height=400)
    fig.add_trace(
        go.Scatter(
            x=items["resolved_at"],
            y=items["cycle_time_days"],
            mode="markers",
            name="finished item",
            marker={"color": TEAM, "opacity": 0.55, "size": 7},
            customdata=items[["work_item_key", "title", "team_id"]],
            hovertemplate="%{customdata[0]} (%{customdata[2]})<br>%{customdata[1]}<br>"
            "finished %{x|%d %b %Y}: %{y:.1f} days<extra></extra>",
        )
    )
    percentile_lines(fig, percentiles)
    fig.update_layout(showlegend=False)
    fig.update_yaxes(title="cycle time (days)", rangemode="tozero")
    return fig


def throughput_run_chart(weekly: pd.DataFrame) -> go.Figure:
    """Items finished per week with the median as the run chart's centre line."""
    title = "Throughput per week (items finished)"
    if weekly.empty:
        return empty(title, "no weeks in this period")
    fig = _figure(title)
    complete = weekly[weekly["is_complete"].astype(bool)] if "is_complete" in weekly else weekly
    fig.add_trace(
        go.Bar(
            x=weekly["week_start"],
            y=weekly["throughput"],
            name="throughput",
            marker_color=TEAM,
            hovertemplate="week of %{x|%d %b}: %{y} items<extra></extra>",
        )
    )
    median = complete["throughput"].median()
    if pd.notna(median):
        fig.add_hline(
            y=median,
            line={"color": INK, "dash": "dot"},
            annotation_text=f"median {median:g}",
            annotation_position="top left",
        )
    mark_partial(fig, weekly, "week_start", 7)
    fig.update_layout(showlegend=False, bargap=0.25)
    fig.update_yaxes(title="items", rangemode="tozero")
    return fig


def wip_trend(weekly: pd.DataFrame) -> go.Figure:
    title = "Work in progress at the end of each week"
    if weekly.empty:
        return empty(title, "no weeks in this period")
    fig = _figure(title)
    fig.add_trace(
        go.Scatter(
            x=weekly["week_start"],
            y=weekly["wip_end"],
            mode="lines+markers",
            line={"color": "#7c3aed", "shape": "hv"},
            fill="tozeroy",
            fillcolor="rgba(124,58,237,0.08)",
            hovertemplate="week of %{x|%d %b}: %{y} in progress<extra></extra>",
        )
    )
    mark_partial(fig, weekly, "week_start", 7)
    fig.update_layout(showlegend=False)
    fig.update_yaxes(title="items in progress", rangemode="tozero")
    return fig


def work_item_age(open_items: pd.DataFrame, percentiles: dict[int, float | None]) -> go.Figure:
    """Each item in progress and how long since it started, against the team's historical cycle-time
    percentiles (the ActionableAgile aging view): one bar per item for a team, one column of items
    per team for the organisation (each judged against its own team's 85th percentile)."""
    title = "Age of work in progress against the cycle-time percentiles (days)"
    wip = open_items[open_items["status_category"] == "in_progress"] if not open_items.empty else open_items
    if wip.empty:
        return empty(title, "nothing in progress")
    over = wip["is_over_p85"].fillna(False).astype(bool)
    hover = (
        "%{customdata[0]} (%{customdata[2]})<br>%{customdata[1]}<br>in progress for %{customdata[3]:.1f} days"
    )
    custom = wip[["work_item_key", "title", "team_id", "age_days"]]
    if percentiles:
        wip = wip.sort_values("age_days")
        fig = _figure(title, height=max(300, 24 * len(wip) + 150))
        fig.add_trace(
            go.Bar(
                y=wip["work_item_key"],
                x=wip["age_days"],
                orientation="h",
                marker_color=[BAD if o else TEAM for o in wip["is_over_p85"].fillna(False).astype(bool)],
                customdata=wip[["work_item_key", "title", "team_id", "age_days"]],
                hovertemplate=hover + "<extra></extra>",
            )
        )
        shown = {p: v for p, v in percentiles.items() if v is not None and pd.notna(v)}
        for pct, value in shown.items():
            color, dash = PERCENTILE_STYLE[pct]
            fig.add_vline(x=value, line={"color": color, "dash": dash, "width": 1.5})
        # Close percentiles would print over each other beside their lines: one key above instead.
        key = " · ".join(
            f"<span style='color:{PERCENTILE_STYLE[p][0]}'>{p}th {v:.1f} d</span>" for p, v in shown.items()
        )
        fig.add_annotation(
            text=f"team's cycle-time percentiles: {key}",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0,
            y=1.02,
            xanchor="left",
            yanchor="bottom",
            font={"size": 12},
        )
        fig.update_xaxes(title="days since the item started", rangemode="tozero")
        fig.update_layout(showlegend=False, margin={"t": 100, "l": 140})
        return fig
    fig = _figure(title, height=420)
    for mask, name, color in ((~over, "within its team's 85th percentile", TEAM), (over, "older", BAD)):
        fig.add_trace(
            go.Box(
                x=wip.loc[mask, "team_id"],
                y=wip.loc[mask, "age_days"],
                name=name,
                boxpoints="all",
                jitter=0.6,
                pointpos=0,
                fillcolor="rgba(0,0,0,0)",
                line={"width": 0},
                marker={"color": color, "size": 7, "opacity": 0.75},
                customdata=custom[mask],
                hovertemplate=hover + "<extra></extra>",
            )
        )
    fig.update_layout(boxmode="overlay")
    fig.update_yaxes(title="days since the item started", rangemode="tozero")
    return fig


def on_time_trend(weekly: pd.DataFrame) -> go.Figure:
    """Share of items with a due date finished on time, week by week, with how many were due."""
    title = "On-time delivery per week"
    if weekly.empty or weekly["due_items"].sum() == 0:
        return empty(title, "no item with a due date finished in this period")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=weekly["week_start"],
            y=weekly["due_items"],
            name="items due",
            marker_color=GRID,
            hovertemplate="week of %{x|%d %b}: %{y} due<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=weekly["week_start"],
            y=weekly["on_time_rate"],
            name="on time",
            mode="lines+markers",
            line={"color": GOOD, "width": 2.5},
            connectgaps=True,
            hovertemplate="week of %{x|%d %b}: %{y:.0%} on time<extra></extra>",
        ),
        secondary_y=False,
    )
    mark_partial(fig, weekly, "week_start", 7)
    fig.update_layout(template=TEMPLATE, title=title, height=HEIGHT)
    fig.update_yaxes(title="on time", tickformat=".0%", range=[0, 1.05], secondary_y=False)
    fig.update_yaxes(title="items due", showgrid=False, rangemode="tozero", tickformat=",d", secondary_y=True)
    return fig


def sprint_predictability(sprints: pd.DataFrame) -> go.Figure:
    """Per closed sprint: items committed at the start, how many of them were done, and scope added."""
    title = "Sprint predictability: committed vs completed"
    if sprints.empty:
        return empty(title, "no closed sprint in this period (sprints come from Jira boards)")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    labels = sprints["sprint_name"].str.replace("Sprint ", "#", regex=False)
    fig.add_trace(go.Bar(x=labels, y=sprints["committed_items"], name="committed", marker_color="#bfdbfe"))
    fig.add_trace(
        go.Bar(x=labels, y=sprints["committed_completed_items"], name="done of them", marker_color=TEAM)
    )
    fig.add_trace(
        go.Bar(x=labels, y=sprints["scope_added_items"], name="added later", marker_color="#fcd34d")
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=sprints["planning_accuracy"],
            name="accuracy",
            mode="lines+markers",
            line={"color": INK},
            hovertemplate="%{x}: %{y:.0%}<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_layout(template=TEMPLATE, title=title, height=HEIGHT, barmode="group")
    fig.update_yaxes(title="items", secondary_y=False)
    fig.update_xaxes(tickangle=-45, type="category")
    fig.update_yaxes(
        title="planning accuracy",
        tickformat=".0%",
        range=[0, 1.1],
        dtick=0.25,
        showgrid=False,
        secondary_y=True,
    )
    return fig


# -- adoption ---------------------------------------------------------------------------


def tool_trend(frame: pd.DataFrame, y: str, title: str, tools: pd.DataFrame, days: int) -> go.Figure:
    """One panel per tool, one line per team, the rollout date marked; y is a 0–1 rate."""
    if frame.empty:
        return empty(title, "no usage in this period")
    names = tools.set_index("tool_id")["tool_name"].to_dict()
    tool_ids = [t for t in tools["tool_id"] if t in set(frame["tool_id"])]
    cols = min(3, len(tool_ids))
    rows = -(-len(tool_ids) // cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[names.get(t, t) for t in tool_ids],
        shared_yaxes=True,
        vertical_spacing=0.14,
        horizontal_spacing=0.04,
    )
    teams = sorted(frame["team_label"].unique())
    colors = {team: PALETTE[i % len(PALETTE)] for i, team in enumerate(teams)}
    start, end = frame["period_start"].min(), frame["period_start"].max()
    for i, tool in enumerate(tool_ids):
        row, col = i // cols + 1, i % cols + 1
        for team in teams:
            part = frame[(frame["tool_id"] == tool) & (frame["team_label"] == team)].sort_values(
                "period_start"
            )
            fig.add_trace(
                go.Scatter(
                    x=part["period_start"],
                    y=part[y],
                    name=team,
                    mode="lines",
                    line={"color": colors[team], "width": 2},
                    legendgroup=team,
                    showlegend=i == 0,
                    hovertemplate=f"{team}<br>%{{x|%d %b %Y}}: %{{y:.0%}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
        rollout = tools.set_index("tool_id").loc[tool, "rollout_date"]
        if pd.notna(rollout) and start <= pd.Timestamp(rollout) <= end:
            fig.add_vline(
                x=pd.Timestamp(rollout).timestamp() * 1000,
                line={"color": MUTED, "dash": "dash"},
                annotation_text="rollout",
                annotation_font={"size": 11, "color": MUTED},
                row=row,
                col=col,
            )
        mark_partial(fig, frame[frame["tool_id"] == tool], "period_start", days, row=row, col=col)
    fig.update_layout(
        template=TEMPLATE, title=title, height=250 * rows + 90, legend=SIDE_LEGEND, margin={"t": 80, "r": 160}
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    # One time window for every panel, so the tools compare at a glance.
    fig.update_xaxes(
        range=[start - timedelta(days=days / 2), end + timedelta(days=days / 2)], tickformat="%b %y", nticks=5
    )
    fig.update_annotations(font_size=13)
    return fig


def time_to_adoption(frame: pd.DataFrame) -> go.Figure:
    """Days from each tool's rollout to the first week half the people used it; tools not there yet
    show how far they got."""
    title = "Time from rollout to 50 % adoption (days)"
    if frame.empty:
        return empty(title, "no tool rolled out")
    frame = frame.sort_values("days_to_adoption", na_position="last")
    reached = frame[frame["has_reached_adoption"].astype(bool)]
    waiting = frame[~frame["has_reached_adoption"].astype(bool)]
    fig = _figure(title)
    fig.add_trace(
        go.Bar(
            y=reached["tool_name"],
            x=reached["days_to_adoption"],
            orientation="h",
            marker_color=GOOD,
            name="reached 50 %",
            text=reached["days_to_adoption"],
            texttemplate="%{text:.0f} d",
            textposition="outside",
            hovertemplate="%{y}: %{x:.0f} days to 50 %<extra></extra>",
        )
    )
    longest = float(reached["days_to_adoption"].max()) if not reached.empty else 30.0
    fig.add_trace(
        go.Bar(
            y=waiting["tool_name"],
            x=[longest] * len(waiting),
            orientation="h",
            marker={"color": "rgba(0,0,0,0)", "line": {"color": HIDDEN, "width": 1.5}},
            name="not yet",
            text=[f"not yet: peak {p:.0%}" for p in waiting["peak_adoption_rate"]],
            textposition="inside",
            insidetextanchor="start",
            textfont={"color": MUTED},
            hovertemplate="%{y}: not at 50 % yet<extra></extra>",
        )
    )
    fig.update_xaxes(title="days from rollout", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    return fig


# -- satisfaction -----------------------------------------------------------------------


def survey_heatmap(
    frame: pd.DataFrame,
    value: str,
    title: str,
    fmt: str,
    k: int,
    zrange: tuple[float, float],
    colorscale: str,
) -> go.Figure:
    """Teams × waves. A suppressed team-wave is a grey cell reading "hidden: fewer than k
    respondents": never a zero, never a gap."""
    if frame.empty:
        return empty(title, "no survey wave in this period")
    waves = frame.sort_values("wave_date")["survey_wave"].unique().tolist()
    teams = frame.drop_duplicates("team_label").sort_values(["is_org", "team_label"], ascending=[False, True])
    teams = teams["team_label"].tolist()
    grid = frame.pivot_table(
        index="team_label", columns="survey_wave", values=value, aggfunc="first", dropna=False
    ).reindex(index=teams, columns=waves)
    hidden = frame.pivot_table(
        index="team_label", columns="survey_wave", values="is_suppressed", aggfunc="first"
    ).reindex(index=teams, columns=waves)
    hidden = hidden.fillna(False).astype(bool)
    text = [
        [
            (
                f"hidden: fewer than {k} respondents"
                if hidden.iloc[r, c]
                else ("" if pd.isna(grid.iloc[r, c]) else format(grid.iloc[r, c], fmt))
            )
            for c in range(len(waves))
        ]
        for r in range(len(teams))
    ]
    shown = [[t if not hidden.iloc[r, c] else "" for c, t in enumerate(row)] for r, row in enumerate(text)]
    withheld = [[t if hidden.iloc[r, c] else "" for c, t in enumerate(row)] for r, row in enumerate(text)]
    fig = _figure(title, height=max(220, 52 * len(teams) + 110))
    # Two layers: grey cells that say why they are hidden, and the values on their colour scale.
    for z, labels, scale, extra in (
        (
            hidden.astype(float).where(hidden).values,
            withheld,
            [[0, HIDDEN], [1, HIDDEN]],
            {"showscale": False},
        ),
        (
            grid.where(~hidden).values,
            shown,
            colorscale,
            {"zmin": zrange[0], "zmax": zrange[1], "colorbar": {"thickness": 10}},
        ),
    ):
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=waves,
                y=teams,
                text=labels,
                texttemplate="%{text}",
                textfont={"size": 12},
                colorscale=scale,
                xgap=3,
                ygap=3,
                hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
                **extra,
            )
        )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False, type="category")
    return fig


# -- improvement ------------------------------------------------------------------------


def improvement_flow(monthly: pd.DataFrame) -> go.Figure:
    """Actions opened and closed each month, and the completion rate (closed / opened)."""
    title = "Improvement actions opened and closed per month"
    if monthly.empty:
        return empty(title, "no month in this period")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=monthly["month_start"],
            y=monthly["actions_opened"],
            name="opened",
            marker_color="#93c5fd",
            hovertemplate="%{x|%b %Y}: %{y} opened<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=monthly["month_start"],
            y=monthly["actions_closed"],
            name="closed",
            marker_color=GOOD,
            hovertemplate="%{x|%b %Y}: %{y} closed<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=monthly["month_start"],
            y=monthly["completion_rate"],
            name="completion rate",
            mode="lines+markers",
            line={"color": INK},
            hovertemplate="%{x|%b %Y}: %{y:.0%}<extra></extra>",
        ),
        secondary_y=True,
    )
    mark_partial(fig, monthly, "month_start", 30)
    fig.update_layout(template=TEMPLATE, title=title, height=HEIGHT, barmode="group")
    fig.update_yaxes(title="actions", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title="completion rate", tickformat=".0%", rangemode="tozero", showgrid=False, secondary_y=True
    )
    return fig


def open_action_age(actions: pd.DataFrame) -> go.Figure:
    """Every open action by team and age in days, oldest at the top of each column."""
    title = "Age of open improvement actions (days)"
    if actions.empty:
        return empty(title, "no open improvement action")
    fig = _figure(title)
    fig.add_trace(
        go.Box(
            x=actions["team_id"],
            y=actions["open_age_days"],
            boxpoints="all",
            jitter=0.5,
            pointpos=0,
            marker={"color": "#d97706", "size": 7, "opacity": 0.75},
            line={"color": MUTED, "width": 1},
            fillcolor="rgba(217,119,6,0.06)",
            customdata=actions[["work_item_key", "title"]],
            hovertemplate="%{customdata[0]}: %{customdata[1]}<br>open %{y:.0f} days<extra></extra>",
        )
    )
    fig.update_layout(showlegend=False)
    fig.update_yaxes(title="days open", rangemode="tozero")
    return fig


# -- data health ------------------------------------------------------------------------


def source_freshness(sources: pd.DataFrame) -> go.Figure:
    """How old each source's newest data is, in days (the cursor, else its last load)."""
    title = "Age of each source's newest data, days (file sources: since their last load)"
    if sources.empty:
        return empty(title, "no source recorded for the run that published")
    fig = _figure(title, height=max(220, 46 * len(sources) + 110))
    fig.add_trace(
        go.Bar(
            y=sources["source"],
            x=sources["age_days"],
            orientation="h",
            marker_color=TEAM,
            text=sources["age_days"],
            texttemplate="%{text:.1f} d",
            textposition="outside",
            customdata=sources[["newest"]],
            hovertemplate="%{y}: newest %{customdata[0]}<extra></extra>",
        )
    )
    fig.update_layout(showlegend=False)
    fig.update_xaxes(title="days", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    return fig
