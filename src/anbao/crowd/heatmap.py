"""The density heat-map 密度热力图 of a JuPedSim run as a PNG (matplotlib).

:func:`anbao.algorithms.pedsim.simulate` returns the density grid as numbers
(:attr:`~anbao.algorithms.pedsim.PedResult.density`, persons/m2 per cell); this module draws the
highest density per cell over the run, with the walkable outline, the exits and the hot spots.
"""

from __future__ import annotations

import functools
import io
import warnings
from typing import Any

import numpy as np

from anbao.algorithms.pedsim import PedResult

__all__ = ["heatmap_png"]

#: colour scale of the heat-map: at least this many persons/m2 at the top
HEATMAP_MIN_TOP = 4.0
CJK_FONT = "WenQuanYi Micro Hei"


@functools.lru_cache(maxsize=1)
def _cjk_font() -> object | None:
    """FontProperties of the CJK font when it is installed, else None (matplotlib's default is used)."""
    from matplotlib import font_manager

    try:
        path = font_manager.findfont(font_manager.FontProperties(family=CJK_FONT), fallback_to_default=False)
    except ValueError:
        return None
    return font_manager.FontProperties(fname=path)


def heatmap_png(result: PedResult, *, title: str = "", width_px: int = 1000, height_px: int = 750,
                dpi: int = 100) -> bytes:
    """A PNG of the highest density per cell over the run (人/㎡), with the walkable outline and exits.

    Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state changed); the
    labels use WenQuanYi Micro Hei when installed (fonts-wqy-microhei), else matplotlib's default font.
    The image is exactly ``width_px`` x ``height_px`` pixels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    if width_px < 100 or height_px < 100 or dpi < 10:
        raise ValueError(f"the image must be at least 100 x 100 pixels at dpi >= 10, got {width_px} x {height_px}")
    font = _cjk_font()
    text: dict[str, Any] = {"fontproperties": font} if font is not None else {}
    peak = result.max_density
    top = max(HEATMAP_MIN_TOP, float(np.nanmax(peak)) if np.isfinite(peak).any() else 0.0)
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x0, y0, x1, y1 = result.extent
    image = ax.imshow(np.ma.masked_invalid(peak), origin="lower", extent=(x0, x1, y0, y1), cmap="YlOrRd",
                      vmin=0.0, vmax=top, interpolation="nearest")
    walkable = result.scene.walkable
    outline = Path.make_compound_path(*(Path(np.asarray(ring.coords)[:, :2], closed=True)
                                        for ring in (walkable.exterior, *walkable.interiors)))
    image.set_clip_path(PathPatch(outline, transform=ax.transData))  # cells show only where one can walk
    bar = fig.colorbar(image, ax=ax, shrink=0.85)
    bar.set_label("人/㎡", **text)
    for ring in (walkable.exterior, *walkable.interiors):
        xs, ys = ring.xy
        ax.plot(xs, ys, color="black", linewidth=1.2)
    for name, poly in result.scene.exits:
        xs, ys = poly.exterior.xy
        ax.fill(xs, ys, color="tab:green", alpha=0.8)
        c = poly.centroid
        ax.annotate(name, (c.x, c.y), ha="center", va="center", fontsize=8, color="darkgreen",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
                    **text)
    for spot in result.hot_spots[:3]:
        ax.plot([spot.x], [spot.y], marker="o", markersize=9, markerfacecolor="none", markeredgecolor="blue")
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    peak_text = f"{np.nanmax(peak):.1f}" if np.isfinite(peak).any() else "0"
    ax.set_title(title or f"最大密度 {peak_text} 人/㎡（{result.scene.agents} 人）", pad=10, **text)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        if font is None:
            warnings.simplefilter("ignore", UserWarning)  # glyphs missing from the fallback font
        fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
