"""``anbao plan check|export``, ``anbao capacity`` and ``anbao evacuate``: planning from the command line."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Security plans 安保方案: regulation checks and documents", no_args_is_help=True)


def _line(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


@app.command("check")
def check(event: Annotated[int, typer.Option("--event", help="Event id")]) -> None:
    """Regulation checks 合规检查: one JSON line per finding, citing its article; exit 1 if any is an error."""
    from anbao.cli import common as base
    from anbao.plan import regulation

    with base.session() as db:
        base.event_or_fail(db, event)
        findings = regulation.run(db=db, event_id=event)
    for f in findings:
        _line(asdict(f))
    errors = sum(1 for f in findings if f.severity == "error")
    base.err.print(f"{len(findings)} findings, {errors} errors 项错误", highlight=False)
    if errors:
        raise typer.Exit(1)


def capacity(event: Annotated[int, typer.Option("--event", help="Event id")]) -> None:
    """Safe capacity 容量核定 (Green Guide): one JSON line per zone, then one for the venue (code VENUE)."""
    from anbao.cli import common as base
    from anbao.crowd import capacity as service

    with base.session() as db:
        base.event_or_fail(db, event)
        result = service.compute(db=db, event_id=event)
    keys = ("code", "name", "holding", "entry", "exit", "emergency", "safe_capacity", "limiting", "limiting_zh",
            "evacuation_min", "error", "steps")
    for z in result["zones"]:
        _line({"scope": "zone", **{k: z[k] for k in keys}, "kind": z["kind"], "declared": z["declared"]})
    v = result["venue"]
    _line({"scope": "venue", **{k: v[k] for k in keys}, "exits": [e["code"] for e in v["exits"]],
           "entries": [e["code"] for e in v["entries"]], "expected_attendance": v["expected_attendance"],
           "approved_attendance": v["approved_attendance"]})




@app.command("export")
def export(event: Annotated[int, typer.Option("--event", help="Event id")],
           out: Annotated[Path, typer.Option("--out", help="Directory for the DOCX files (created if missing)")],
           ) -> None:
    """Planning documents 方案文书 as DOCX: work plan, special plans, risk report, assignment list; prints the paths."""
    from rich.progress import BarColumn, Progress, TextColumn

    from anbao.cli import common as base
    from anbao.documents import plans as service

    if out.exists() and not out.is_dir():
        base.fail(f"{out}: not a directory")
    with base.session() as db:
        base.event_or_fail(db, event)
        docs = service.documents(db=db, event_id=event)
        out.mkdir(parents=True, exist_ok=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      console=base.err, transient=True) as progress:
            task = progress.add_task("导出 exporting", total=len(docs))
            for d in docs:
                progress.update(task, description=f"导出 {d.title}")
                path = out / f"{d.name}.docx"
                path.write_bytes(service.render(d.build()))
                _line({"file": str(path), "name": d.name, "title": d.title})
                progress.advance(task)


def evacuate(event: Annotated[int, typer.Option("--event", help="Event id")],
             zone: Annotated[str | None, typer.Option("--zone", help="Zone code (default: the whole venue)")] = None,
             model: Annotated[str, typer.Option("--model", help="macro | jupedsim")] = "macro",
             people: Annotated[int | None, typer.Option(help="People to evacuate (default: expected attendance)")]
             = None,
             agents: Annotated[int | None, typer.Option(help="JuPedSim agents (default: up to 1,000)")] = None,
             max_s: Annotated[float | None, typer.Option("--max-s", help="Time cap, seconds")] = None,
             heatmap: Annotated[Path | None, typer.Option(help="Write the JuPedSim density heat-map PNG here")] = None,
             ) -> None:
    """Evacuation simulation 疏散推演: one JSON line with clearance_s, the flow per exit and the zones.

    Exit 1 when the run hit its time cap (the partial result is printed with a warning).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from anbao.cli import common as base
    from anbao.crowd import evacuation as service

    with base.session() as db:
        base.event_or_fail(db, event)
        job = service.prepare(db=db, event_id=event, model=model, zone=zone, people=people, agents=agents,
                              max_s=max_s)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=base.err, transient=True) as bar:
        task = bar.add_task(f"疏散推演 {model} {zone or '全场'}", total=1.0)
        result, png = service.run(job, progress=lambda p: bar.update(task, completed=p))
    if heatmap is not None and png is not None:
        heatmap.write_bytes(png)
        result["heatmap_file"] = str(heatmap)
    _line(result)
    if not result["finished"]:
        base.err.print(result["warning"], highlight=False)
        raise typer.Exit(1)
