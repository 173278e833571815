"""The WGS-84 -> GCJ-02 module of the web UI (js/gcj02.js) against published reference pairs, run in Node.

Pairs (WGS-84 lat, lon -> GCJ-02 lat, lon) are the test cases of the eviltransform project (Shanghai,
Shenzhen, Beijing) and of the R package's documentation example (Beijing, Tiananmen).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable

MODULE = Path(__file__).resolve().parents[2] / "src" / "anbao" / "web" / "js" / "gcj02.js"
PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
    (39.90734, 116.39089, 39.90874107, 116.39713094),  # Beijing, Tiananmen
]


def _run(script: str) -> object:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed (make install needs it for npm ci)")
    code = f"import * as g from {json.dumps(MODULE.as_uri())};\n{script}"
    out = subprocess.run([node, "--no-warnings", "--input-type=module", "-e", code], capture_output=True, text=True,
                         timeout=30, check=True)
    return json.loads(out.stdout)


def test_published_pairs():
    got = _run(f"""const pairs = {json.dumps(PAIRS)};
console.log(JSON.stringify(pairs.map(([la, lo]) => g.wgs84ToGcj02(lo, la))));""")
    for (_, _, glat, glon), (lon, lat) in zip(PAIRS, got, strict=True):
        assert lon == pytest.approx(glon, abs=1e-7) and lat == pytest.approx(glat, abs=1e-7)


def test_inverse_and_outside_china():
    got = _run("""const out = [];
for (const [lo, la] of [[120.229, 30.2297], [121.5272106, 31.1774276]]) {
  out.push(g.gcj02ToWgs84(...g.wgs84ToGcj02(lo, la)));
}
out.push(g.wgs84ToGcj02(2.3522, 48.8566));
out.push(g.wgs84ToGcj02(120.229, 30.2297));
console.log(JSON.stringify(out));""")
    assert got[0] == pytest.approx([120.229, 30.2297], abs=1e-8)
    assert got[1] == pytest.approx([121.5272106, 31.1774276], abs=1e-8)
    assert got[2] == [2.3522, 48.8566]  # Paris: no offset outside China
    # Hangzhou: the offset is a few hundred metres (about +0.0046 deg lon, -0.0024 deg lat)
    assert 0.003 < got[3][0] - 120.229 < 0.006 and -0.004 < got[3][1] - 30.2297 < -0.001
