"""Render Results into the LaTeX report and compile it. The report never computes.

Plain text is escaped by default (Jinja ``finalize``); only trusted LaTeX
(statements from the registry, solver math) is wrapped in ``NoEscape``.
Compilation runs latexmk in a temporary directory, without shell escape, with
``openin_any=p``/``openout_any=p`` and a timeout; the PDF is moved into place
atomically.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

import jinja2

from problems.model import Result
from problems.registry import get, problem_sets
from report import figures as figs
from report.escape import NoEscape, escape_breakable, escape_text, paragraphs, trusted

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LATEX_TIMEOUT_S = 240
_DISPLAY_MAX = 1500  # display math is shrunk to the line width; longer math is set inline so that it can break


class ReportError(RuntimeError):
    """LaTeX failed; the message carries the relevant log lines."""


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((#", comment_end_string="#))",
        finalize=lambda v: v if isinstance(v, NoEscape) else escape_breakable("" if v is None else v),
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    return env


def _cell(value, math: bool) -> str:
    if math:
        return f"${value}$"
    return escape_breakable(value)


CHAR = 1 / 84          # a digit (half an em) at the body font, 11pt, as a fraction of the 16.4 cm text width
COLSEP = 0.027         # two \tabcolsep per column
SIZES = (("", 1.0), ("\\small", 10 / 11), ("\\footnotesize", 9 / 11), ("\\scriptsize", 7 / 11))
HYPHENATED = 7         # a header word longer than this may be hyphenated (the header cells allow it)


def column_layout(t, total: float = 0.97) -> tuple[list[float], str]:
    """Text-column widths (fractions of the text width) and the font size of a table.

    Every column first gets its floor: its longest cell word (numbers cannot break) and header word (up to
    HYPHENATED characters: longer ones hyphenate). The largest of normal, small, footnote and script size at
    which the floors fit is taken (beyond that the floors shrink to the page and cells wrap); the room left goes to the columns in proportion to what their longest cell
    still wants (a long list column gets the room a number does not need).

    >>> from problems.model import Table
    >>> w, size = column_layout(Table("c", ["run", "a long description"], [["1", "x" * 60]]))
    >>> w[1] > 3 * w[0], size, round(sum(w), 3)
    (True, '', 0.916)
    >>> cols = ["run"] + [f"metric {i}" for i in range(9)]
    >>> w, size = column_layout(Table("c", cols, [["Adam 5e-05, no BatchNorm/Dropout"] + ["0.7398"] * 9]))
    >>> size == SIZES[2][0], all(x >= 6 * CHAR * 9 / 11 for x in w[1:])
    (True, True)
    >>> w, size = column_layout(Table("c", [f"m{i}" for i in range(20)], [["1.234e-05"] * 20]))
    >>> size == SIZES[-1][0], round(sum(w) + 20 * COLSEP, 3)      # never wider than the page
    (True, 0.97)
    """
    n = len(t.columns)
    text_cols = [i for i in range(n) if i not in t.math_columns]
    budget = total - COLSEP * n - 0.12 * (n - len(text_cols))
    floor, want = [0] * n, [0] * n
    for i in text_cols:
        cells = [str(row[i]) for row in t.rows if i < len(row)]
        words = [w for c in cells for w in c.split()]
        head = max((len(w) for w in str(t.columns[i]).split()), default=1)
        floor[i] = min(24, max(3, max((len(w) for w in words), default=0), min(head, HYPHENATED)))
        want[i] = min(45, max(4, head, max((len(c) for c in cells), default=0)))
    size, scale = SIZES[-1]
    for name, factor in SIZES:
        if sum(floor) * CHAR * factor <= budget:
            size, scale = name, factor
            break
    base = [f * CHAR * scale for f in floor]
    if sum(base) > budget:                 # too many columns even in script size: shrink to the page, cells wrap
        base = [b * budget / sum(base) for b in base]
    room = max(0.0, budget - sum(base))
    extra = [max(0, want[i] - floor[i]) for i in range(n)]
    if sum(extra) == 0:                    # everything at its floor: share the room in proportion to it
        extra = floor
    widths = [base[i] + room * extra[i] / (sum(extra) or 1) if i in text_cols else 0.0 for i in range(n)]
    return widths, size


def _table_ctx(t) -> dict:
    n = len(t.columns)
    widths, size = column_layout(t)
    spec = "".join("l" if i in t.math_columns else f">{{\\raggedright\\arraybackslash}}p{{{widths[i]:.3f}\\textwidth}}"
                   for i in range(n))
    # \hspace{0pt}: TeX does not hyphenate the first word of a paragraph, and a header cell is one
    header = " & ".join(r"\hspace{0pt}" + escape_breakable(c) for c in t.columns)
    rows = [trusted(" & ".join(_cell(v, i in t.math_columns) for i, v in enumerate(row))) for row in t.rows]
    return {"spec": trusted(spec), "caption": t.caption, "header": trusted(header), "rows": rows, "ncols": n,
            "size": trusted(size)}


def _data_text(data: dict) -> str:
    if not data:
        return ""
    if "description" in data:
        return str(data["description"])
    return ", ".join(f"{k}: {v}" for k, v in data.items())


def _failure_text(r: Result) -> str:
    """What failed, counted: never the reference result alone after FAIL."""
    parts = []
    failed = [c for c in r.checks if not c.passed]
    if failed:
        parts.append(f"{len(failed)} of {len(r.checks)} checks failed")
    rejected = sum(v.passed is False for v in r.verdicts)
    undecided = sum(v.passed is None for v in r.verdicts)
    if rejected:
        parts.append(f"{rejected} of {len(r.verdicts)} claims rejected")
    if undecided:
        parts.append(f"{undecided} of {len(r.verdicts)} claims undecided")
    return "; ".join(parts) or "not passing"


def _provenance_data(r: Result) -> str:
    if r.data:
        return _data_text(r.data)
    if r.random_state is None:
        return "no dataset (exact computation)"
    return f"no dataset (seeded random numerics, random state {r.random_state})"


def _result_ctx(r: Result, fig_dir: Path) -> dict:
    try:
        problem = get(r.problem_id)
        statement, planned = trusted(problem.statement), problem.planned
    except KeyError:
        statement, planned = "", ""
    steps = [{"text": s.text, "rule": s.rule, "gap": s.gap, "math": trusted(s.math),
              "display": len(s.math) <= _DISPLAY_MAX}
             for s in r.steps]
    figures = []
    for f in r.figures:
        pdf = figs.render(f, fig_dir, r.problem_id)
        caption = escape_text(f.caption) + (f" ${f.caption_math}$" if f.caption_math else "")
        figures.append({"file": trusted(pdf.name), "caption": trusted(caption)})
    return {
        "problem_id": r.problem_id, "title": r.title, "status": r.status, "passed": r.passed, "outcome": r.outcome,
        "failure_text": _failure_text(r),
        "summary": r.summary, "error": r.error, "statement": statement, "planned": planned,
        "data": r.data, "data_text": _data_text(r.data), "steps": steps,
        "tables": [_table_ctx(t) for t in r.tables], "figures": figures, "checks": r.checks,
        "verdicts": [{"claim": v.claim, "passed": v.passed, "evidence": v.evidence,
                      "evidence_math": trusted(v.evidence_math)} for v in r.verdicts],
    }


def render_tex(results: list[Result], meta, fig_dir: Path, versions: dict, profile: str = "quick",
               answers_path: str = "", limits: str = "") -> str:
    by_set: dict[str, list[Result]] = {}
    for r in results:
        by_set.setdefault(r.problem_id.split(".")[0], []).append(r)
    groups = []
    for s in problem_sets():
        if s.name in by_set:
            groups.append({"title": f"{s.name}: {s.title}", "source": s.source,
                           "results": [_result_ctx(r, fig_dir) for r in by_set[s.name]]})
    implemented = [r for r in results if r.status != "not-implemented"]
    counts = {"total": len(results), "implemented": len(implemented),
              "passed": sum(r.outcome == "pass" for r in implemented),
              "failed": sum(r.outcome == "fail" for r in implemented),
              "undecided": sum(r.outcome == "undecided" for r in implemented),
              "errors": sum(r.outcome == "error" for r in implemented)}
    provenance = [{"id": r.problem_id, "random_state": "-" if r.random_state is None else r.random_state,
                   "time": f"{r.timings.get('solve_s', 0):.2f}", "data": _provenance_data(r)}
                  for r in implemented]
    ctx = {
        "meta": meta,
        # paragraphs() escapes each paragraph, so the result is trusted LaTeX
        "contributions": [trusted(p) for p in paragraphs(meta.contributions or "")],
        "groups": groups, "counts": counts, "versions": sorted(versions.items()), "profile": profile, "limits": limits,
        "provenance": provenance, "answers_path": os.path.basename(answers_path) if answers_path else "",
        "built_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return _env().get_template("report.tex.j2").render(**ctx)


def _log_excerpt(log: str, limit: int = 12) -> str:
    lines = log.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith("!") or "Fatal error" in line or line.startswith("l."):
            picked.extend(lines[i:i + 2])
    return "\n".join(picked[:limit]) or "\n".join(lines[-limit:])


def compile_pdf(tex: str, workdir: Path, timeout: int = LATEX_TIMEOUT_S) -> Path:
    """Compile ``workdir/report.tex`` with latexmk (no shell escape, restricted file access)."""
    exe = shutil.which("latexmk")
    if not exe:
        raise ReportError("latexmk is not installed (run `make report`, which installs TeX Live from Debian)")
    (workdir / "report.tex").write_text(tex, encoding="utf-8")
    env = dict(os.environ, openin_any="p", openout_any="p", shell_escape="f", TEXMFOUTPUT=str(workdir))
    cmd = [exe, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "-no-shell-escape",
           "-quiet", "report.tex"]
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ReportError(f"LaTeX did not finish within {timeout} s") from None
    pdf = workdir / "report.pdf"
    log_path = workdir / "report.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else proc.stdout + proc.stderr
    if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise ReportError("LaTeX failed:\n" + _log_excerpt(log))
    return pdf


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o666 & ~_umask())                # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_report(results: list[Result], meta, out: str | Path, versions: dict, profile: str = "quick",
                 answers_path: str = "", tex_only: bool = False, keep_dir: Optional[Path] = None,
                 limits: str = "") -> Path:
    """Render and compile; write the PDF atomically to ``out`` (figures beside it in ``figures/``)."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="dlcheck-tex-") as tmp:
        work = Path(tmp)
        tex = render_tex(results, meta, work, versions, profile, answers_path, limits)
        if tex_only:
            target = out.with_suffix(".tex")
            (work / "report.tex").write_text(tex, encoding="utf-8")
            _atomic_copy(work / "report.tex", target)
            return target
        pdf = compile_pdf(tex, work)
        _atomic_copy(pdf, out)
        fig_out = out.parent / "figures"
        for f in work.glob("*.p[dn][fg]"):
            if f.name != "report.pdf":
                _atomic_copy(f, fig_out / f.name)
        _atomic_copy(work / "report.tex", out.with_suffix(".tex"))
        if keep_dir is not None:                    # the TeX folder, for inspection (log, recorder .fls)
            shutil.copytree(work, keep_dir, dirs_exist_ok=True)
    return out
