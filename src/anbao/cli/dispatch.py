"""``anbao roads``: import a road network into an event, check its emergency corridors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Road networks and emergency corridors 路网与应急通道", no_args_is_help=True)


@app.command("import")
def import_roads(file: Annotated[Path, typer.Argument(help="OpenStreetMap .osm / .osm.pbf, or GeoJSON lines")],
                 event: Annotated[int, typer.Option("--event", help="Event id")],
                 name: Annotated[str | None, typer.Option(help="Display name (default: the file name)")] = None,
                 ) -> None:
    """Import a road or walkway network into an event 导入路网; prints the import report as JSON."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from anbao.cli import common as base
    from anbao.core.time import utcnow
    from anbao.dispatch import service
    from anbao.dispatch.schemas import RoadNetworkOut

    if not file.is_file():
        base.fail(f"{file}: no such file")
    settings = base.load_settings()
    with base.session() as db, Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                         console=base.err, transient=True) as progress:
        base.event_or_fail(db, event)
        task = progress.add_task(f"读取 reading {file.name}", total=None)

        def on_progress(ways: int) -> None:
            progress.update(task, description=f"读取 reading {file.name}: {ways:,} ways")

        row = service.add_network_file(db=db, event_id=event, source=file, name=name, var_dir=settings.var_dir,
                                       by=db.info.get("actor", "cli"), now=utcnow(), on_progress=on_progress)
        progress.update(task, description="保存 storing")
        out = RoadNetworkOut.model_validate(row).model_dump(mode="json")
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


@app.command("check")
def check(event: Annotated[int, typer.Option("--event", help="Event id")]) -> None:
    """Emergency corridors 应急通道检查: one JSON line per zone (not ok first); exit 1 if any is unreachable."""
    from anbao.cli import common as base
    from anbao.core.errors import Conflict
    from anbao.core.time import utcnow
    from anbao.dispatch import service

    settings = base.load_settings()
    with base.session() as db:
        base.event_or_fail(db, event)
        try:
            result = service.corridors(db=db, event_id=event, var_dir=settings.var_dir, now=utcnow())
        except Conflict as exc:
            base.fail(exc.message)
    for row in result["zones"]:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    bad = [r["zone_code"] for r in result["zones"] if r["status"] == "unreachable"]
    slower = sum(r["status"] == "slower" for r in result["zones"])
    base.err.print(f"{len(result['zones'])} zones, {result['closures']} closures in force, "
                   f"{result['access_points']} access points: {len(bad)} unreachable, {slower} slower",
                   markup=False, highlight=False)
    if bad:
        raise typer.Exit(1)
