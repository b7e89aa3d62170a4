"""`make hardening`: the hostile-input figures of issue 7, measured in one run.

- the claim parser fuzzed with arbitrary text and grammar-shaped hostile input (default 10^5 examples):
  every input parses or raises ExprError, nothing executes (a canary), none exceeds the time limit;
- the LaTeX corpus in every user text field of an answers file: the PDF builds and prints each literally,
  and TeX records no input file outside the build folder and the TeX installation;
- kills: a training run killed at random moments, then resumed: no corrupt cache entry, same numbers.

Usage: python -m bench.hardening [--examples 100000] [--kills 8]
"""
from __future__ import annotations

import argparse
import builtins
import time

from hypothesis import HealthCheck, given, settings, strategies as st

CANARY: list[int] = []
FRAGMENTS = ["dlcheck_canary()", "__builtins__", "__class__", "__subclasses__()", "__import__('os')",
             "__import__('builtins').dlcheck_canary()", ".", "(", ")", "[0]", "[", "]", "{", "}", "x", "y", "**",
             "9", "9**9**9", "10" * 20, "lambda:", "lambda x: x", ",", "exp", "getattr", "eval", "exec", "open",
             "+", "-", "*", "/", "'s'", "f'{x}'", "[a for a in x]", "(a for a in x)", "x if y else z", ":=",
             "sigmoid(", "relu(", ".T", "diag(", "@", "^", "\\", "#", "%", ";", "\n", "import os", "yield",
             "await x", "*args", "**kw", "(" * 50, ")" * 50, "1e308", "1e-400", "0x1F", "True", "None", "..."]

arbitrary = st.text(max_size=80)
grammar = st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join)
hostile_input = st.one_of(arbitrary, grammar)


def parse_one(text: str, time_limit_s: float = 5.0) -> str:
    """Parse ``text``: return 'parsed' or 'refused'; any other exception propagates (a test failure)."""
    from theory.parse import ExprError, parse_expr

    builtins.dlcheck_canary = lambda: CANARY.append(1)
    try:
        started = time.perf_counter()
        try:
            parse_expr(text)
            outcome = "parsed"
        except ExprError:
            outcome = "refused"
        elapsed = time.perf_counter() - started
    finally:
        del builtins.dlcheck_canary
    if CANARY:
        raise AssertionError(f"parsing executed code: {text!r}")
    if elapsed > time_limit_s:
        raise AssertionError(f"parsing took {elapsed:.1f} s (> {time_limit_s} s): {text!r}")
    return outcome


def fuzz(examples: int) -> dict:
    counts = {"parsed": 0, "refused": 0}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(hostile_input)
    def run(text):
        counts[parse_one(text)] += 1

    run()
    return counts


CORPUS = [r"\input{/etc/passwd}", r"\write18{touch pwned}", r"\immediate\write18{id}", r"\catcode`\@=11",
          r"\def\x{y}\x", "a--b---c <<guillemets>> ,,low quotes'' !` ?` `tick' \"dq\"", r"\openin5=/etc/hostname", r"\csname input\endcsname{/etc/passwd}", "{{{ unbalanced",
          "unbalanced }}}", "100% sure # ~ ^ _ & $", r"\\ \\ \\", "^^5cinput{/etc/passwd}", "W" * 300,
          "Ünïcødé façade naïve", "数学 と 学習", "emoji \U0001F393 and \u200b zero-width", "$x^2$ \\(y\\)",
          r"\end{document}", r"\begin{verbatim}", "\\"]


def corpus_build(out_dir) -> dict:
    """Every corpus string in every [report] field; returns what was found in the PDF text."""
    import re
    import subprocess
    from pathlib import Path

    from problems import api
    from problems.answers import Answers, ReportMeta
    from report.build import build_report
    from report.escape import printable

    out_dir = Path(out_dir)
    fields = ("title", "course", "group", "date", "contributions")
    meta = ReportMeta(**{f: f"{f}: " + " | ".join(CORPUS) for f in fields},
                      authors=[{"name": s, "student_number": s} for s in CORPUS[:4]])
    pdf = build_report([], meta, out_dir / "corpus.pdf", api.versions(), keep_dir=out_dir / "tex")
    text = "".join(subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    missing = [s for s in CORPUS if "".join(printable(s).split()) not in text]   # long words may wrap
    fls = (out_dir / "tex" / "report.fls").read_text()
    inputs = re.findall(r"^INPUT (.+)$", fls, re.M)
    outside = [p for p in inputs if not (p.startswith(("/usr/share/", "/var/lib/texmf", "/etc/texmf"))
                                         or not p.startswith("/"))]
    return {"strings": len(CORPUS), "fields": len(fields) + 2, "missing": missing, "outside_inputs": outside}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--kills", type=int, default=8)
    args = ap.parse_args(argv)
    import tempfile

    t0 = time.perf_counter()
    counts = fuzz(args.examples)
    print(f"fuzz_examples: {sum(counts.values())} ({counts['parsed']} parsed, {counts['refused']} refused, "
          f"0 executed) in {time.perf_counter() - t0:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        c = corpus_build(tmp)
    print(f"latex_corpus: {c['strings']} strings x {c['fields']} fields, {c['strings'] - len(c['missing'])} printed "
          f"literally, {len(c['outside_inputs'])} files read outside the build and TeX folders")
    from tests.test_hardening import kill_and_resume

    with tempfile.TemporaryDirectory() as tmp:
        survived = kill_and_resume(tmp, args.kills)
    print(f"kills_survived: {survived}/{args.kills}")
    ok = not c["missing"] and not c["outside_inputs"] and survived == args.kills
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
