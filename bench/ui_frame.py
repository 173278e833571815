"""Browser update cost per frame of the command map with many moving entities. Prints one JSON line.

    python bench/ui_frame.py [--entities 5000] [--frames 120] [--chromium /usr/bin/chromium]

The bench serves the demo event from a temporary SQLite file (uvicorn in a thread, no simulator),
opens the real command map at / in headless Debian chromium (Playwright; never a downloaded browser),
logs in, and then, on the page's own Leaflet map with the venue drawn, moves every entity a little on
every animation frame for ``--frames`` frames. Each variant runs in the same page, one after the other:

- batched_*: ``EntityLayer`` of ``js/entities.js``: one canvas, positions in typed arrays, one path and one fill
  per colour per frame (the layer meant for unit positions and other mass moving points), ``--entities``
- canvas_*: ``L.circleMarker`` on one Leaflet canvas renderer (one path and one fill per point), ``--entities``
- canvas_small_*: the same with one tenth of the entities (the baseline of the entity count)
- svg_*: the same ``L.circleMarker`` on an SVG renderer (one <path> per entity), ``--entities``
- dom_*: ``L.marker`` with a divIcon (one DOM element per entity, like the gate and post icons), ``--entities``

Every point is a filled disc of radius 3 px in one of four colours, without outline. Figures per variant, in
milliseconds:
- ``*_update_p50_ms`` / ``*_update_p95_ms``: script time of one frame's update, from the first setLatLng to the
  end of the redraw (the canvas layers are made to draw at once inside the timed block, so their drawing
  calls are included; rasterising them, and the style, layout and paint of SVG and DOM, come after and show
  in the frame interval instead)
- ``*_frame_p50_ms`` / ``*_frame_p95_ms``: interval between animation frames while the variant runs (16.7 ms is
  60 frames per second; a larger value means the browser could not keep up)
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

DEMO_USER, DEMO_PASSWORD = "demo", "anbao-demo-2026"

# runs in the page: window.anbao.mapView.map is the command map's Leaflet map
DRIVE = """async ([kind, n, frames]) => {
  const map = window.anbao.mapView.map;
  const b = map.getBounds();
  const south = b.getSouth(), west = b.getWest(), dlat = b.getNorth() - south, dlng = b.getEast() - west;
  let seed = 42;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const lat = new Float64Array(n), lng = new Float64Array(n), vlat = new Float64Array(n), vlng = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lat[i] = south + rnd() * dlat; lng[i] = west + rnd() * dlng;
    vlat[i] = (rnd() - 0.5) * dlat / 400; vlng[i] = (rnd() - 0.5) * dlng / 400;
  }
  const renderer = kind === "svg" ? L.svg({padding: 0.1}) : L.canvas({padding: 0.1});
  const group = L.layerGroup().addTo(map);
  const items = [];
  const colors = ["#2fc56b", "#2f7df6", "#f5c518", "#ff8a1c"];
  const {EntityLayer} = await import("/js/entities.js");
  const batch = kind === "batched" ? new EntityLayer({pane: "overlayPane", radius: 3}).addTo(map) : null;
  const colorIndex = Uint8Array.from({length: n}, (_, i) => i % 4);
  for (let i = 0; batch === null && i < n; i++) {
    const at = [lat[i], lng[i]];
    const m = kind === "dom"
      ? L.marker(at, {icon: L.divIcon({className: "bench-unit", iconSize: [8, 8]}), keyboard: false,
                      interactive: false})
      : L.circleMarker(at, {renderer, radius: 3, stroke: false, fillColor: colors[i % 4], fillOpacity: 1,
                            interactive: false});
    group.addLayer(m);
    items.push(m);
  }
  const update = [], frame = [];
  await new Promise((resolve) => {
    let k = 0, last = null;
    const step = (ts) => {
      if (last !== null) frame.push(ts - last);
      last = ts;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        lat[i] += vlat[i]; lng[i] += vlng[i];
        if (lat[i] < south || lat[i] > south + dlat) vlat[i] = -vlat[i];
        if (lng[i] < west || lng[i] > west + dlng) vlng[i] = -vlng[i];
        if (batch === null) items[i].setLatLng([lat[i], lng[i]]);
      }
      if (batch !== null) {
        batch.lat = lat; batch.lng = lng; batch.color = colorIndex;
        batch.draw();
      } else if (kind === "canvas") {
        // draw now, inside the timed block, and drop the redraw Leaflet scheduled for the next frame
        if (renderer._redrawRequest) L.Util.cancelAnimFrame(renderer._redrawRequest);
        renderer._redraw();
      }
      update.push(performance.now() - t0);
      if (++k < frames) requestAnimationFrame(step); else resolve();
    };
    requestAnimationFrame(step);
  });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));  // let pending redraws run
  map.removeLayer(group);
  if (batch !== null) map.removeLayer(batch);
  else if (kind !== "dom") map.removeLayer(renderer);
  return {update, frame};
}"""


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))], 2)


def _serve(var: Path) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    from anbao.account import service as accounts
    from anbao.account.schemas import UserCreate
    from anbao.app import create_app
    from anbao.config import Settings
    from anbao.core.db import make_engine, make_sessionmaker, transaction
    from anbao.core.migrate import upgrade
    from anbao.demo.build import load_demo

    settings = Settings(database_url=f"sqlite:///{var / 'anbao.db'}", var_dir=var,
                        secret_key="bench-secret-key-0123456789abcdef0123")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine), actor="bench") as db:
        load_demo(db=db)
        accounts.create(db=db, data=UserCreate(username=DEMO_USER, password=DEMO_PASSWORD, role="commander"))
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="critical",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("bench server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=5000)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--size", default="1920x1080", help="viewport WIDTHxHEIGHT")
    args = ap.parse_args()
    if not shutil.which(args.chromium):
        raise SystemExit(f"chromium not found at {args.chromium} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        url, server, thread = _serve(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": width, "height": height})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(url + "/")
                page.fill("#login input[name=username]", DEMO_USER)
                page.fill("#login input[name=password]", DEMO_PASSWORD)
                page.click("#login button[type=submit]")
                page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30000)
                page.add_style_tag(content=".bench-unit{background:#2fc56b;border:1px solid #0b1520;border-radius:50%}")
                page.evaluate(DRIVE, ["canvas", 200, 30])  # warm-up (JIT, renderer set-up)
                out: dict[str, Any] = {"bench": "ui_frame", "entities": args.entities, "frames": args.frames,
                                       "viewport": args.size, "browser": browser.version}
                small = max(1, args.entities // 10)
                for name, kind, n in (("batched", "batched", args.entities), ("canvas", "canvas", args.entities),
                                      ("canvas_small", "canvas", small), ("svg", "svg", args.entities),
                                      ("dom", "dom", args.entities)):
                    r = page.evaluate(DRIVE, [kind, n, args.frames])
                    out[f"{name}_entities"] = n
                    for what in ("update", "frame"):
                        out[f"{name}_{what}_p50_ms"] = _pct(r[what], 0.5)
                        out[f"{name}_{what}_p95_ms"] = _pct(r[what], 0.95)
                browser.close()
                if errors:
                    out["page_errors"] = errors
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
