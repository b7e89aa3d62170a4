"""Draw Figure specs (data from Results) with matplotlib: vector PDF for the report, PNG beside.

Figures are functions of (Axes, data): :func:`plot_line` and :func:`plot_contour`.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from problems.model import Figure  # noqa: E402

_KIND_STYLE = {"minimum": ("v", "tab:blue"), "maximum": ("^", "tab:red"), "saddle": ("X", "tab:green"),
               "undetermined": ("o", "tab:gray")}


def plot_line(ax, fig: Figure) -> None:
    for s in fig.series:
        ax.plot(s.x, s.y, s.style or "-", label=s.label, drawstyle=s.drawstyle)
    for v in fig.vlines:
        ax.axvline(v["x"], color=v.get("color", "k"), ls="--", lw=1, label=v.get("label"))
    for h in fig.hlines:
        ax.axhline(h["y"], color=h.get("color", "0.5"), ls=":", lw=1, label=h.get("label"))
    ax.set_xscale(fig.xscale)
    ax.set_yscale(fig.yscale)
    xs = [x for ser in fig.series for x in ser.x]
    if xs and fig.xscale == "linear" and all(float(x).is_integer() for x in xs):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs and steps: no "epoch 2.5"
    ys = [y for ser in fig.series for y in ser.y if y is not None]
    if ys and fig.yscale == "linear" and all(math.isfinite(float(y)) and float(y).is_integer() for y in ys):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))   # integer quantities (a rate schedule, counts)
    ax.set_xlabel(fig.xlabel)
    ax.set_ylabel(fig.ylabel)
    ax.grid(alpha=0.3)
    if fig.series or fig.vlines or fig.hlines:
        if fig.legend == "outside":
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        else:
            ax.legend(fontsize=8, loc=fig.legend)


def plot_contour(ax, fig: Figure) -> None:
    x = np.asarray(fig.grid["x"], float)
    y = np.asarray(fig.grid["y"], float)
    z = np.array([[np.nan if v is None else v for v in row] for row in fig.grid["z"]], float)
    finite = z[np.isfinite(z)]
    lo, hi = np.percentile(finite, [10, 90]) if finite.size else (0, 1)
    levels = np.linspace(lo, hi, 25) if hi > lo else 10
    cs = ax.contourf(x, y, np.clip(z, lo, hi), levels=levels, cmap="viridis", alpha=0.85)
    ax.contour(x, y, np.clip(z, lo, hi), levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    ax.figure.colorbar(cs, ax=ax, label="f")
    seen = set()
    for p in fig.points:
        marker, color = _KIND_STYLE.get(p.get("kind", ""), ("o", "k"))
        label = p.get("kind") if p.get("kind") not in seen else None
        seen.add(p.get("kind"))
        ax.plot(p["x"], p["y"], marker, color=color, mec="white", ms=11, label=label)
    ax.set_xlabel(fig.xlabel)
    ax.set_ylabel(fig.ylabel)
    if fig.points:
        ax.legend(fontsize=8, loc="upper right")


_DRAW = {"line": plot_line, "contour": plot_contour}


def stem(problem_id: str, name: str) -> str:
    """The file name (no suffix) of a problem's figure: safe for TeX and every file system.

    >>> stem("ist23.q1.1a", "Accuracy curves")
    'ist23-q1-1a-accuracy-curves'
    """
    return re.sub(r"[^a-z0-9]+", "-", f"{problem_id}-{name}".lower()).strip("-")


def render(fig: Figure, out_dir: Path, problem_id: str = "") -> Path:
    """Draw ``fig`` into ``out_dir/<problem-id>-<name>.pdf`` (and ``.png``) atomically; return the PDF path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = stem(problem_id, fig.name) if problem_id else fig.name
    figure, ax = plt.subplots(figsize=(6, 4.2))
    try:
        _DRAW[fig.kind](ax, fig)
        figure.tight_layout()
        paths = {}
        for ext in ("pdf", "png"):
            target = out_dir / f"{name}.{ext}"
            fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=f".{ext}")
            os.close(fd)
            figure.savefig(tmp, dpi=110)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)                 # mkstemp makes 0600
            os.replace(tmp, target)
            paths[ext] = target
    finally:
        plt.close(figure)
    return paths["pdf"]
