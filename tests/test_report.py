"""The PDF: built, readable, and every user text printed literally."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from problems import api
from problems.answers import parse_answers
from problems.registry import select
from report.build import build_report, render_tex

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = r"\input{/etc/passwd} # % _ { } \\ ~ ^ & $ \write18{touch pwned} \def\x{y} \catcode"

needs_tex = pytest.mark.skipif(not shutil.which("latexmk") or not shutil.which("pdftotext"),
                               reason="TeX Live and poppler-utils are installed by `make test`")


def hostile_answers():
    text = f"""
[report]
title = '''{HOSTILE} title'''
course = '''{HOSTILE} course'''
group = '''{HOSTILE} group'''
date = '''{HOSTILE} date'''
authors = [ {{ name = '''{HOSTILE} name''', student_number = '''{HOSTILE} 42''' }} ]
contributions = '''{HOSTILE} contributions'''

["hertie.1.1"]
points = [ {{ at = "(1, 1)", kind = "minimum" }}, {{ at = "(2, 2)", kind = "minimum" }} ]
"""
    return parse_answers(text, "hostile.toml")


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_tex_escapes_every_user_field(tmp_path):
    answers = hostile_answers()
    results = api.run_problems(select(["hertie.1.1"]), answers)
    tex = render_tex(results, answers.report, tmp_path, api.versions())
    assert r"\input{/etc/passwd}" not in tex and r"\write18{" not in tex
    assert tex.count(r"\textbackslash{}input\{/etc/passwd\}") >= 7


@needs_tex
def test_undecided_claims_are_not_called_a_failure(tmp_path):
    from problems.answers import Answers
    from problems.model import Check, Result, Verdict

    results = [Result("hertie.1.1", title="t", checks=[Check("c", "m", True)], verdicts=[Verdict("x", None, "why")]),
               Result("hertie.1.2", title="t", checks=[Check("c", "m", False)]),
               Result("hertie.1.3.1", title="t", status="error", error="boom")]
    tex = " ".join(render_tex(results, Answers().report, tmp_path, api.versions()).split())
    assert r"\textbf{Status:} \undecidedmark\ --- 1 of 1 claims undecided" in tex
    assert r"\textbf{Status:} \failmark\ --- 1 of 1 checks failed" in tex
    assert ("0 implemented problems pass all their checks and claims, 1 fail a check or a claim, 1 have claims that "
            "could not be decided (no failure, but not a pass), 1 ended in an error") in tex


def test_pdf_prints_hostile_text_literally_and_shows_verdicts(tmp_path):
    answers = hostile_answers()
    results = api.run_problems(select(["hertie"]), answers)
    out = build_report(results, answers.report, tmp_path / "report.pdf", api.versions())
    assert out.exists() and out.read_bytes()[:4] == b"%PDF"
    text = pdf_text(out)
    assert "Critical points" in text
    flat = " ".join(text.split())
    literal = r"\input{/etc/passwd} # % _ { } \\ ~ ^ & $ \write18{touch pwned} \def\x{y} \catcode"
    for field in ("title", "course", "group", "date", "name", "42", "contributions"):
        assert f"{literal} {field}" in flat, field
    assert "not a critical point: the gradient at (1, 1) is (-3, -3)" in flat
    assert "FAIL" in flat and "pass" in flat
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    assert (tmp_path / "figures" / "hertie-1-1-contour.png").exists()


@needs_tex
def test_cli_build_report_writes_all_69_problems(tmp_path):
    out = tmp_path / "r.pdf"
    p = subprocess.run([sys.executable, str(ROOT / "main.py"), "build-report", "--out", str(out),
                        "--answers", str(ROOT / "examples" / "answers.toml"),
                        "--profile", "smoke", "--cache-dir", str(tmp_path / "cache")],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    flat = " ".join(pdf_text(out).split())
    assert "69 problems" in p.stdout
    assert "Ada Lovelace" in flat and "231045" in flat
    from problems.registry import all_problems
    missing = sum(not p.implemented for p in all_problems())
    assert flat.count("Status: not implemented yet") == missing
    for pid in ("ist23.q1.1a", "tau.p2d", "hertie.1.1"):
        assert pid in flat
    assert not list(tmp_path.glob("*.part"))
