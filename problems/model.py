"""The Result model: what every solver returns and what the report renders.

A Result holds evidence, not prose: the derivation as ordered steps (each with
its rule, and an explicit gap flag where a step is not proved), the checks that
were run, one verdict per claimed answer, tables and figures as data, and the
provenance (resolved parameters, random state, versions, timings).

Everything round-trips through JSON:

>>> r = Result(problem_id="hertie.1.1", title="Critical points")
>>> r.steps.append(Step(text="Set the gradient to zero.", math=r"\\nabla f = 0", rule="first-order condition"))
>>> r.checks.append(Check(name="gradient vanishes", method="exact substitution", passed=True))
>>> Result.from_json(r.to_json()) == r
True
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Optional

SCHEMA_VERSION = 1


@dataclass
class Step:
    """One step of a derivation.

    ``text`` is plain prose (escaped when rendered); ``math`` is trusted LaTeX
    produced by the solver (normally ``sympy.latex`` output), never user text.
    ``gap`` marks a step that is asserted, not proved.
    """

    text: str = ""
    math: str = ""
    rule: str = ""
    gap: bool = False


@dataclass
class Check:
    """A verification the solver ran on its own answer (against an oracle).

    ``info`` marks a measurement shown for information that is not asserted (e.g. the sheet's accuracy
    target when a substitute dataset or a reduced budget ran); it never fails a problem."""

    name: str
    method: str
    passed: bool
    detail: str = ""
    info: bool = False


@dataclass
class Verdict:
    """The verdict on one claimed answer.

    ``claim`` is the user's text as written. ``passed`` is True, False, or None
    when the checker could not decide (which never counts as a pass).
    ``evidence`` is plain text; ``evidence_math`` is trusted LaTeX built by the
    solver from parsed (whitelisted) expressions.
    """

    claim: str
    passed: Optional[bool]
    evidence: str = ""
    evidence_math: str = ""


@dataclass
class Table:
    """A table as data. Cells are plain text; ``math_columns`` lists the
    column indices whose cells are trusted LaTeX math from the solver."""

    caption: str
    columns: list[str]
    rows: list[list[Any]]
    math_columns: list[int] = field(default_factory=list)


DRAWSTYLES = ("default", "steps-pre", "steps-mid", "steps-post")   # matplotlib's Line2D drawstyles


@dataclass
class Series:
    """One line of a line figure. ``style`` is a matplotlib format string (markers, line style);
    ``drawstyle`` how the points are joined: ``default`` (straight segments) or a step variant, e.g.
    ``steps-post`` for a piecewise-constant quantity that holds y[i] from x[i] up to x[i+1]."""

    label: str
    x: list[float]
    y: list[float]
    style: str = "-"
    drawstyle: str = "default"

    def __post_init__(self):
        if self.drawstyle not in DRAWSTYLES:
            raise ValueError(f"Series {self.label!r}: drawstyle {self.drawstyle!r}: expected one of {', '.join(DRAWSTYLES)}")


@dataclass
class Figure:
    """A figure as data; ``report/figures.py`` draws it.

    kind: ``line`` (series of y against x) or ``contour`` (``grid`` holds
    ``x``, ``y`` and ``z`` with z[i][j] = f(x[j], y[i])); ``points`` are marked
    points with labels; ``vlines``/``hlines`` are reference lines.
    """

    name: str
    caption: str
    kind: str = "line"
    xlabel: str = ""
    ylabel: str = ""
    series: list[Series] = field(default_factory=list)
    grid: dict[str, Any] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)
    vlines: list[dict[str, Any]] = field(default_factory=list)
    hlines: list[dict[str, Any]] = field(default_factory=list)
    caption_math: str = ""  # trusted LaTeX appended to the caption
    xscale: str = "linear"  # or "log" (matplotlib scale names)
    yscale: str = "linear"
    legend: str = "best"    # a matplotlib legend location, or "outside" (right of the axes)


@dataclass
class Result:
    problem_id: str
    title: str = ""
    status: str = "implemented"  # or "not-implemented", "error"
    summary: str = ""
    steps: list[Step] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    random_state: Optional[Any] = None
    data: dict[str, Any] = field(default_factory=dict)  # which dataset actually ran
    versions: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""

    # -- verdict logic -------------------------------------------------
    @property
    def checks_passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def claims_passed(self) -> bool:
        return all(v.passed is True for v in self.verdicts)

    @property
    def passed(self) -> bool:
        """True when the problem ran, every check holds and every claim holds."""
        if self.status == "not-implemented":
            return not self.verdicts  # claims on it cannot be checked
        return self.status == "implemented" and self.checks_passed and self.claims_passed

    @property
    def outcome(self) -> str:
        """``pass``; ``fail`` (a check failed or a claim was rejected); ``undecided`` (nothing failed, but a
        claim could not be decided: it does not count as a pass); ``error``; ``not-implemented``."""
        if self.status != "implemented":
            return self.status
        if not self.checks_passed or any(v.passed is False for v in self.verdicts):
            return "fail"
        return "pass" if self.claims_passed else "undecided"

    # -- JSON ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["schema_version"] = SCHEMA_VERSION
        d["id"] = self.problem_id  # the CLI's JSON names it `id`
        d["passed"] = self.passed
        d["outcome"] = self.outcome
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Result":
        d = dict(d)
        d.pop("schema_version", None)
        d.pop("passed", None)
        d.pop("outcome", None)
        d.pop("id", None)
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown Result fields: {sorted(unknown)}")
        d["steps"] = [Step(**s) for s in d.get("steps", [])]
        d["checks"] = [Check(**c) for c in d.get("checks", [])]
        d["verdicts"] = [Verdict(**v) for v in d.get("verdicts", [])]
        d["tables"] = [Table(**t) for t in d.get("tables", [])]
        figs = []
        for f in d.get("figures", []):
            f = dict(f)
            f["series"] = [Series(**s) for s in f.get("series", [])]
            figs.append(Figure(**f))
        d["figures"] = figs
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "Result":
        return cls.from_dict(json.loads(text))
