"""`madad staffing`: agents required for a service target, from the Erlang C / Erlang A maths.

A thin command over :mod:`madad.metrics.staffing`; it touches no database. ``cli.py`` registers
it with ``app.command("staffing")(staffing)``.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from madad.metrics import staffing as maths


def staffing(
    arrivals_per_hour: Annotated[
        float, typer.Option("--arrivals-per-hour", help="contacts arriving per hour")
    ],
    aht: Annotated[float, typer.Option("--aht", help="average handle time in seconds")],
    target_seconds: Annotated[
        float, typer.Option("--target-seconds", help="answer within this many seconds")
    ] = 20.0,
    service_level: Annotated[
        float,
        typer.Option("--service-level", help="share to answer within --target-seconds, e.g. 0.8"),
    ] = 0.8,
    target_asa: Annotated[
        float | None,
        typer.Option("--target-asa", help="also keep the average speed of answer under S seconds"),
    ] = None,
    shrinkage: Annotated[
        float,
        typer.Option("--shrinkage", help="share of paid time away from contacts, e.g. 0.3"),
    ] = 0.0,
    max_occupancy: Annotated[
        float | None,
        typer.Option("--max-occupancy", help="keep agents busy at most this share, e.g. 0.85"),
    ] = None,
    max_abandonment: Annotated[
        float | None,
        typer.Option(
            "--max-abandonment",
            help="with --patience: at most this share may hang up, e.g. 0.05",
        ),
    ] = None,
    patience: Annotated[
        float | None,
        typer.Option(
            "--patience",
            help="mean customer patience in seconds: model hang-ups with Erlang A",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="print JSON instead of tables")
    ] = False,
) -> None:
    """How many agents a queue needs: Erlang C, or Erlang A when customers hang up (--patience).

    Every target given must hold: the service level, and --target-asa, --max-occupancy and
    --max-abandonment when set. Scheduled staff adds shrinkage: ceil(required / (1 - shrinkage)).
    """
    target = _target(
        arrivals_per_hour=arrivals_per_hour,
        aht=aht,
        target_seconds=target_seconds,
        service_level=service_level,
        target_asa=target_asa,
        shrinkage=shrinkage,
        max_occupancy=max_occupancy,
        max_abandonment=max_abandonment,
        patience=patience,
    )
    load = maths.offered_load(arrivals_per_hour, aht, 3600.0)
    rec = maths.recommend(load, aht, target, shrinkage=shrinkage, patience=patience)
    lowest = 1 if patience is not None else 0
    around = [
        maths.performance(n, load, aht, target_seconds, patience)
        for n in range(max(lowest, rec.required - 2), rec.required + 4)
    ]
    if json_output:
        typer.echo(json.dumps(_as_json(rec, around, shrinkage=shrinkage), indent=2))
        return
    _print_tables(rec, around, shrinkage=shrinkage)


def _target(
    *,
    arrivals_per_hour: float,
    aht: float,
    target_seconds: float,
    service_level: float,
    target_asa: float | None,
    shrinkage: float,
    max_occupancy: float | None,
    max_abandonment: float | None,
    patience: float | None,
) -> maths.StaffingTarget:
    """Check the options; a bad one ends the command with a usage error (status 2)."""

    def finite(value: float) -> bool:
        return math.isfinite(value)

    if not (finite(arrivals_per_hour) and arrivals_per_hour >= 0):
        raise typer.BadParameter("must be a number ≥ 0", param_hint="--arrivals-per-hour")
    if not (finite(aht) and aht > 0):
        raise typer.BadParameter("must be a number of seconds > 0", param_hint="--aht")
    if not (finite(target_seconds) and target_seconds >= 0):
        raise typer.BadParameter("must be a number of seconds ≥ 0", param_hint="--target-seconds")
    if not 0 < service_level < 1:
        raise typer.BadParameter(
            "must be between 0 and 1 (exclusive), e.g. 0.8", param_hint="--service-level"
        )
    if target_asa is not None and not (finite(target_asa) and target_asa > 0):
        raise typer.BadParameter("must be a number of seconds > 0", param_hint="--target-asa")
    if not 0 <= shrinkage < 1:
        raise typer.BadParameter("must be in [0, 1), e.g. 0.3", param_hint="--shrinkage")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise typer.BadParameter("must be in (0, 1], e.g. 0.85", param_hint="--max-occupancy")
    if patience is not None and not patience > 0:
        raise typer.BadParameter("must be a number of seconds > 0", param_hint="--patience")
    if max_abandonment is not None:
        if not 0 < max_abandonment < 1:
            raise typer.BadParameter(
                "must be between 0 and 1 (exclusive), e.g. 0.05", param_hint="--max-abandonment"
            )
        if patience is None:
            raise typer.BadParameter(
                "needs --patience (without it nobody hangs up)", param_hint="--max-abandonment"
            )
    return maths.StaffingTarget(
        service_level=service_level,
        target_seconds=target_seconds,
        asa=target_asa,
        max_occupancy=max_occupancy,
        max_abandonment=max_abandonment,
    )


def _number(value: float) -> float | None:
    """JSON has no infinity: an unbounded wait is null."""
    return value if math.isfinite(value) else None


def _row(result: maths.Performance) -> dict[str, Any]:
    row: dict[str, Any] = {
        "agents": result.agents,
        "service_level": result.service_level,
        "asa_seconds": _number(result.asa),
        "p_wait": result.p_wait,
        "occupancy": result.occupancy,
    }
    if result.patience is not None:
        row["abandonment_rate"] = result.p_abandon
    return row


def _as_json(
    rec: maths.Recommendation, around: list[maths.Performance], *, shrinkage: float
) -> dict[str, Any]:
    result = rec.performance
    return {
        "model": "erlang_a" if result.patience is not None else "erlang_c",
        "load_erlangs": result.load,
        "aht_seconds": result.aht,
        "target_seconds": result.target_seconds,
        "patience_seconds": result.patience,
        "shrinkage": shrinkage,
        "agents_required": rec.required,
        "agents_scheduled": rec.scheduled,
        "expected": _row(result),
        "around": [_row(r) for r in around],
    }


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if math.isfinite(value) else "∞"


def _print_tables(
    rec: maths.Recommendation, around: list[maths.Performance], *, shrinkage: float
) -> None:
    out = Console()
    result = rec.performance
    erlang_a = result.patience is not None
    model = f"Erlang A (patience {result.patience:g} s)" if erlang_a else "Erlang C"
    summary = Table(title="Staffing", show_header=False)
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    summary.add_row("model", model)
    summary.add_row("offered load", f"{result.load:.2f} Erlangs")
    summary.add_row("agents required", str(rec.required))
    summary.add_row(f"scheduled with {shrinkage:.0%} shrinkage", str(rec.scheduled))
    summary.add_row(
        f"expected service level ({result.target_seconds:g} s)", _percent(result.service_level)
    )
    summary.add_row("expected ASA", _seconds(result.asa))
    summary.add_row("P(wait)", _percent(result.p_wait))
    summary.add_row("occupancy", _percent(result.occupancy))
    if erlang_a:
        summary.add_row("abandonment rate", _percent(result.p_abandon))
    out.print(summary)

    nearby = Table(title="Around the answer")
    nearby.add_column("agents", justify="right")
    nearby.add_column("service level", justify="right")
    nearby.add_column("ASA", justify="right")
    nearby.add_column("P(wait)", justify="right")
    nearby.add_column("occupancy", justify="right")
    if erlang_a:
        nearby.add_column("abandonment", justify="right")
    for r in around:
        cells = [
            str(r.agents),
            _percent(r.service_level),
            _seconds(r.asa),
            _percent(r.p_wait),
            _percent(r.occupancy),
        ]
        if erlang_a:
            cells.append(_percent(r.p_abandon))
        nearby.add_row(*cells, style="bold" if r.agents == rec.required else None)
    out.print(nearby)
