"""``anbao review``: the after-action review 复盘 of an event (statistics and the problems found)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="After-action review 复盘", no_args_is_help=True)


@app.command("stats")
def stats(event: Annotated[int, typer.Option("--event", help="Event id")],
          session: Annotated[int | None, typer.Option("--session", help="One session of the event only")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="One JSON document instead of tables")] = False,
          step_s: Annotated[int, typer.Option(min=10, max=3600, help="Seconds between zone-state steps")] = 60,
          ack_min: Annotated[float, typer.Option(min=0, help="Finding: acknowledged after more than N min")] = 5.0,
          zone_level: Annotated[str, typer.Option(help="Finding: zones at this level or above ...")] = "orange",
          zone_min: Annotated[float, typer.Option(min=0, help="... for more than N min")] = 10.0,
          silent_min: Annotated[float, typer.Option(min=0, help="Finding: sensors silent for more than N min")] = 5.0,
          flapping: Annotated[int, typer.Option(min=2, help="Finding: a warning raised N times or more")] = 3,
          ) -> None:
    """Review statistics and the problems found 复盘统计与存在问题 (docs/review.md)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from anbao.cli import common as base
    from anbao.review import service

    try:
        rules = service.FindingRules(ack_s=ack_min * 60, zone_level=zone_level, zone_minutes=zone_min,
                                     silent_s=silent_min * 60, flapping=flapping)
    except ValueError as exc:
        base.fail(str(exc))
    with base.session() as db, Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                         console=base.err, transient=True) as progress:
        base.event_or_fail(db, event)
        progress.add_task(f"统计 reviewing event {event}", total=None)
        try:
            got = service.review_with_findings(db=db, event_id=event, session_id=session, step_s=step_s, rules=rules)
        except LookupError as exc:
            base.fail(str(exc))
    if as_json:
        json.dump(service.jsonable(got), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    r = got["statistics"]
    console = base.out
    since, until = r["window"]["since"], r["window"]["until"]
    console.print(f"[bold]{r['event']['name']}[/]  {since:%Y-%m-%d %H:%M} – {until:%H:%M} UTC")
    att = r["attendance"]
    console.print(f"在场峰值 peak on site: {att['peak_on_site']}  核准 approved: {att['approved']}  "
                  f"安全容量 safe: {att['safe_capacity']}")
    w = r["warnings"]
    console.print(f"预警 warnings: {w['total']}  " + "  ".join(f"{k} {v}" for k, v in w["by_level"].items())
                  + f"  确认 ack p50/p90 s: {w['acknowledge_s']['p50_s']} / {w['acknowledge_s']['p90_s']}")
    t = r["tasks"]
    console.print(f"预案启动 plans started: {r['plans']['activations']}  任务 tasks: {t['total']}  "
                  f"超时 overdue: {t['overdue']}")
    i = r["incidents"]
    console.print(f"警情 incidents: {i['total']}  到场 arrival p50/p90 s: {i['arrival_s']['p50_s']} / "
                  f"{i['arrival_s']['p90_s']}")
    table = Table("存在问题 finding", "条 n", "证据 evidence")
    for f in got["findings"]:
        ev = ", ".join(f"{e['record']}:{e['id']}" for e in f["evidence"][:6]) + (" …" if f["count"] > 6 else "")
        table.add_row(f["title_zh"], str(f["count"]), ev)
    console.print(table if got["findings"] else "存在问题 findings: none under these rules")


@app.command("report")
def report(event: Annotated[int, typer.Option("--event", help="Event id")],
           out: Annotated[Path, typer.Option("--out", help="Directory to write the DOCX into")],
           session: Annotated[int | None, typer.Option("--session", help="One session of the event only")] = None,
           ) -> None:
    """The after-action summary 安保工作总结 as DOCX (every figure from the record; docs/review.md)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from anbao.cli import common as base
    from anbao.documents import plans as export
    from anbao.documents import summary

    with base.session() as db, Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                         console=base.err, transient=True) as progress:
        ev = base.event_or_fail(db, event)
        progress.add_task(f"生成总结 writing the summary of event {event}", total=None)
        try:
            body = export.render(summary.build(db=db, event_id=event, session_id=session))
        except LookupError as exc:
            base.fail(str(exc))
        code = ev.code
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{code}-summary.docx"
    path.write_bytes(body)
    base.out.print(str(path))
