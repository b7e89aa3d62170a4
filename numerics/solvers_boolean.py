"""ist23.q3.1a-c: the Boolean interval function, single perceptrons and 2-unit networks.

f(x) = +1 if A <= sum_i x_i <= B else -1 on {-1,+1}^D (-D <= A <= B <= D).

* q3.1a: separability of the 2^D corners by LP, a Farkas certificate verified
  exactly in rationals, a table over every (D, A, B) with D <= max_D.
* q3.1b / q3.1c: reference integer networks (sign / ReLU hidden units, sign
  output), verified exhaustively on every corner of every valid (D, A, B) with
  D <= max_D and by sampling beyond; claimed weights checked the same way.
"""
from __future__ import annotations

import time
from fractions import Fraction
from typing import Any, Optional

import numpy as np
import sympy as sp

from numerics import boolean_nets as bn
from numerics import separability as sep
from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import claim_keys
from theory.parse import ExprError, parse_expr, parse_number

SYM = {n: sp.Symbol(n, integer=True) for n in ("D", "A", "B")}
MAX_TABLE_D = 10
MAX_EXHAUSTIVE_D = 16

CLAIM_SCHEMA = """\
Claims for ist23.q3.1a (no single perceptron), one TOML table:

  ["ist23.q3.1a"]
  separable = false        # required: is f on {-1,+1}^D linearly separable?
  D = 2                    # optional instance (default: the sheet's counter-example D = 2, A = B = 0)
  A = 0
  B = 0
  certificate = [1, 1, 1, 1]   # optional Farkas certificate lambda_n >= 0, one per corner, corners in
                               # the order of itertools.product([-1, 1], repeat=D); numbers or text
                               # ("1/2"); checked exactly: sum lambda_n y_n x_n = 0, sum lambda_n y_n = 0,
                               # sum lambda_n > 0

Claims for ist23.q3.1b (sign hidden units) and ist23.q3.1c (ReLU hidden units):

  ["ist23.q3.1b"]
  W = ["2", "-2"]          # 2 hidden rows; a row is a list of D entries, or ONE entry used for every input
  b = ["1 - 2*A", "2*B + 1"]
  v = [1, 1]
  v0 = -1
  D = 3                    # optional: check only this D (else every D <= max_D, and sampled beyond)
  A = 0                    # optional: only this A
  B = 1                    # optional: only this B

Entries are TOML numbers or expressions in D, A, B as text (+ - * / **; no other names).
h(x) = sign(v . g(W x + b) + v0), g = sign (sign(0) = +1) or ReLU. Checked: every weight is an
integer at every checked instance; h = f on every corner; robustness (sign hidden units: every
hidden and the output pre-activation non-zero at every corner; ReLU: the output pre-activation).
"""


# ---------------------------------------------------------------- helpers

def _int_key(claims: dict, key: str, where: str) -> Optional[int]:
    if key not in claims:
        return None
    v = claims[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(f"{where}.{key}: expected an integer")
    return v


def _value(raw, where: str, symbolic: bool) -> sp.Expr:
    try:
        if isinstance(raw, bool):
            raise ExprError("expected a number or an expression, got a boolean")
        if isinstance(raw, (int, float)):
            return parse_number(raw)
        if isinstance(raw, str):
            e = parse_expr(raw, SYM if symbolic else {}, allow_new_symbols=False)
            if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
                raise ExprError("expected one scalar expression")
            return e
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    raise InputError(f"{where}: expected a number or an expression as text")


def _frac(e: sp.Expr) -> Optional[Fraction]:
    e = sp.nsimplify(e) if e.is_Float else e
    if e.is_Rational:
        return Fraction(int(e.p), int(e.q))
    return None


def _corner_tex(x) -> str:
    return "(" + ",".join("+1" if int(a) > 0 else "-1" for a in x) + ")"


def _corner_txt(x) -> str:
    return "(" + ", ".join(f"{int(a):+d}" for a in x) + ")"


def _frac_txt(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _f_steps(result: Result) -> None:
    result.steps.append(Step(
        text="The function on the corners of the hypercube; sum x takes only the values -D, -D+2, ..., D "
             "(the parity of D), so f depends only on which attainable sums lie in [A, B].",
        math=r"f(x)=\begin{cases}+1 & \sum_{i=1}^D x_i\in[A,B]\\ -1 & \text{otherwise}\end{cases},"
             r"\qquad \sum_i x_i\in\{-D,-D+2,\dots,D\}",
        rule="definition"))


# ---------------------------------------------------------------- q3.1a

def _symmetric_criterion(D: int, A: int, B: int) -> bool:
    """Separable iff the attainable sums in [A, B] are empty, all, a prefix or a suffix (theory)."""
    sums = list(range(-D, D + 1, 2))
    pos = [s for s in sums if A <= s <= B]
    return not pos or pos[0] == sums[0] or pos[-1] == sums[-1]


def _instance(X, A, B):
    return bn.f_values(X, A, B)


def _exact_decision(X, y) -> tuple[Optional[bool], str]:
    """The LP's verdict when its evidence passes an exact re-check, else (None, why).

    The evidence is re-checked here with ``fractions.Fraction``, independently of
    the checks inside :func:`separability.decide`; a solver failure is reported,
    not raised, so the check "every LP verdict carries exact evidence" can fail.
    """
    try:
        dec = sep.decide(X, y)
    except sep.SolverFailure as exc:
        return None, str(exc)
    if dec.separable:
        if dec.w is None or dec.b is None:
            return None, "separable, but no hyperplane returned"
        ok, why = sep.verify_separator(X, y, dec.w, dec.b)
    else:
        if dec.certificate is None:
            return None, "not separable, but no Farkas certificate returned"
        ok, why = sep.verify_certificate(X, y, dec.certificate)
    return (dec.separable, why) if ok else (None, ("hyperplane" if dec.separable else "certificate")
                                           + " fails the exact check: " + why)


def solve_q3_1a(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    t0 = time.perf_counter()
    max_D = int(params.get("max_D", 8))
    if not 1 <= max_D <= MAX_TABLE_D:
        raise InputError(f"parameter max_D: expected 1 <= max_D <= {MAX_TABLE_D}, got {max_D}")
    parsed = _parse_claims_a(claims) if claims else None
    r = Result(problem_id="ist23.q3.1a", title="No single perceptron", params={"max_D": max_D}, random_state=None)
    _f_steps(r)
    r.steps.append(Step(
        text="A perceptron computes f exactly when the corners are linearly separable, i.e. when this LP "
             "(variables w, b; scipy linprog, HiGHS) is feasible:",
        math=r"y_n\,(w^\top x_n+b)\ \ge\ 1,\quad n=1,\dots,2^D,\qquad y_n=f(x_n)",
        rule="linear programming"))
    r.steps.append(Step(
        text="When it is infeasible, Farkas' lemma gives a certificate, found by a second LP and then checked "
             "in exact rational arithmetic (independently of the solver):",
        math=r"\lambda\ge0,\ \sum_n\lambda_n y_n x_n=0,\ \sum_n\lambda_n y_n=0,\ \sum_n\lambda_n>0"
             r"\ \Rightarrow\ 0=\sum_n\lambda_n y_n(w^\top x_n+b)\ge\sum_n\lambda_n>0",
        rule="Farkas' lemma"))
    # sheet counter-example
    X2 = sep.corners(2)
    y2 = _instance(X2, 0, 0)
    d2 = sep.decide(X2, y2)
    lam = d2.certificate or []
    r.steps.append(Step(
        text="Counter-example D = 2, A = B = 0 (XOR-like: f = +1 exactly when x_1 = -x_2). The certificate puts "
             "weight on all four corners:",
        math=r"\sum_n \lambda_n y_n x_n = "
             + " + ".join(rf"{_frac_txt(l)}\cdot({int(yy):+d})\,{_corner_tex(x)}" for l, yy, x in zip(lam, y2, X2))
             + r" = (0,0),\qquad \sum_n\lambda_n y_n = 0",
        rule="exact certificate"))
    r.tables.append(Table(caption="Farkas certificate for D = 2, A = B = 0 (corners in product order)",
                          columns=["x", "y = f(x)", "lambda"],
                          rows=[[_corner_txt(x), f"{int(yy):+d}", _frac_txt(l)] for x, yy, l in zip(X2, y2, lam)]))
    ok2, why2 = sep.verify_certificate(X2, y2, lam) if lam else (False, "no certificate")
    r.checks.append(Check("counter-example D=2, A=B=0 is not separable", "HiGHS LP + exact Fraction check of the "
                          "Farkas certificate", (not d2.separable) and ok2, why2))
    r.steps.append(Step(
        text="Why the pattern below: f is symmetric in the coordinates, so averaging any separating (w, b) over "
             "all permutations gives a separator with w = c(1, ..., 1). Then f is separable exactly when the "
             "attainable sums labelled +1 are none, all, a prefix or a suffix of -D, -D+2, ..., D. Degenerate "
             "instances: when [A, B] contains no attainable sum (e.g. D = 2, A = B = 1) f is the constant -1; "
             "when it contains all of them f is the constant +1; both are separable (w = 0, b = -1 or +1).",
        rule="symmetrisation"))
    # table over all (D, A, B)
    rows = []
    agree = True
    failures: list[str] = []   # labellings whose LP verdict lacks exact evidence
    n_lp = 0
    for D in range(1, max_D + 1):
        X = bn.cached_corners(D)
        cache: dict[tuple, bool] = {}
        n_all = n_sep = n_const = 0
        non_sep: list[str] = []
        undecided: list[str] = []
        for A in range(-D, D + 1):
            for B in range(A, D + 1):
                n_all += 1
                key = tuple(bn.attainable_in(D, A, B))
                if key not in cache:
                    y = _instance(X, A, B)
                    n_lp += 1
                    separable, why = _exact_decision(X, y)
                    cache[key] = separable
                    if separable is None:
                        failures.append(f"(D, A, B) = ({D}, {A}, {B}): {why}")
                separable = cache[key]
                if separable is None:  # listed under "no exact evidence", not counted either way
                    undecided.append(f"({A},{B})")
                    continue
                if separable != _symmetric_criterion(D, A, B):
                    agree = False
                n_sep += separable
                if len(key) in (0, D + 1):
                    n_const += 1
                if not separable:
                    non_sep.append(f"({A},{B})")
        shown = ", ".join(non_sep[:6]) + (f", ... ({len(non_sep)} in all)" if len(non_sep) > 6 else "")
        if undecided:
            shown = (shown + "; " if shown else "") + "no exact evidence: " + ", ".join(undecided[:6])
        rows.append([str(D), str(n_all), str(n_sep), str(n_const), str(n_all - n_sep - len(undecided)),
                     shown or "none"])
    r.tables.append(Table(caption=f"Linear separability of f for every valid (D, A, B), D <= {max_D} "
                                  "(LP per distinct labelling; evidence verified exactly)",
                          columns=["D", "(A,B) pairs", "separable", "of which constant f", "not separable",
                                   "non-separable (A,B)"], rows=rows))
    r.checks.append(Check("every LP verdict carries exact evidence", "separating hyperplane or Farkas certificate "
                          "re-checked with fractions.Fraction", not failures,
                          f"{n_lp} distinct labellings solved" if not failures else
                          f"{len(failures)} of {n_lp} labellings without exact evidence; first: "
                          + "; ".join(failures[:3])))
    r.checks.append(Check("LP agrees with the symmetrisation criterion", "independent theory (prefix/suffix of "
                          "attainable sums)", agree, f"all (D, A, B) with D <= {max_D}"))
    r.summary = "f is not separable for D = 2, A = B = 0 (exact Farkas certificate); table up to D = " + str(max_D)
    if parsed:
        r.verdicts.extend(_verdicts_a(parsed))
    r.timings["total_s"] = time.perf_counter() - t0
    return r


def _parse_claims_a(claims: dict) -> dict:
    where = '["ist23.q3.1a"]'
    claim_keys(claims, {"separable", "D", "A", "B", "certificate"}, where)
    if "separable" not in claims or not isinstance(claims["separable"], bool):
        raise InputError(f"{where}.separable: expected true or false")
    D = _int_key(claims, "D", where)
    A = _int_key(claims, "A", where)
    B = _int_key(claims, "B", where)
    D = 2 if D is None else D
    A = 0 if A is None else A
    B = 0 if B is None else B
    if not 1 <= D <= MAX_TABLE_D:
        raise InputError(f"{where}.D: expected 1 <= D <= {MAX_TABLE_D}")
    if not -D <= A <= B <= D:
        raise InputError(f"{where}.A, {where}.B: expected -D <= A <= B <= D")
    cert = None
    if "certificate" in claims:
        raw = claims["certificate"]
        if not isinstance(raw, list) or len(raw) != 2 ** D:
            raise InputError(f"{where}.certificate: expected a list of {2 ** D} numbers (one per corner)")
        cert = []
        for i, c in enumerate(raw):
            q = _frac(_value(c, f"{where}.certificate[{i}]", symbolic=False))
            if q is None:
                raise InputError(f"{where}.certificate[{i}]: expected a rational number")
            cert.append(q)
    return {"separable": claims["separable"], "D": D, "A": A, "B": B, "certificate": cert, "raw": claims}


def _verdicts_a(p: dict) -> list[Verdict]:
    D, A, B = p["D"], p["A"], p["B"]
    X = bn.cached_corners(D)
    y = _instance(X, A, B)
    dec = sep.decide(X, y)
    out = []
    claim = f"separable = {str(p['separable']).lower()} for D = {D}, A = {A}, B = {B}"
    if dec.separable:
        ev = ("separable: w = (" + ", ".join(_frac_txt(w) for w in dec.w) + f"), b = {_frac_txt(dec.b)} "
              "satisfies y_n (w.x_n + b) > 0 at every corner (checked exactly)")
    else:
        ev = ("not separable: Farkas certificate lambda = (" + ", ".join(_frac_txt(l) for l in dec.certificate)
              + ") verified exactly")
    out.append(Verdict(claim, p["separable"] == dec.separable, ev))
    if p["certificate"] is not None:
        ok, why = sep.verify_certificate(X, y, p["certificate"])
        out.append(Verdict("certificate = [" + ", ".join(_frac_txt(c) for c in p["certificate"]) + "]", ok,
                           ("certificate verified: " if ok else "certificate rejected: ") + why))
    return out


# ---------------------------------------------------------------- q3.1b / q3.1c

def _parse_net_claims(claims: dict, pid: str) -> dict:
    where = f'["{pid}"]'
    claim_keys(claims, {"W", "b", "v", "v0", "D", "A", "B"}, where)
    for k in ("W", "b", "v", "v0"):
        if k not in claims:
            raise InputError(f"{where}: missing key {k!r}")
    D = _int_key(claims, "D", where)
    A = _int_key(claims, "A", where)
    B = _int_key(claims, "B", where)
    if D is not None and not 1 <= D <= MAX_EXHAUSTIVE_D:
        raise InputError(f"{where}.D: expected 1 <= D <= {MAX_EXHAUSTIVE_D}")
    if D is not None and ((A is not None and not -D <= A <= D) or (B is not None and not -D <= B <= D)):
        raise InputError(f"{where}.A/B: expected -D <= A <= B <= D")
    if A is not None and B is not None and A > B:
        raise InputError(f"{where}.A, {where}.B: expected A <= B")
    W = claims["W"]
    if not isinstance(W, list) or len(W) != 2:
        raise InputError(f"{where}.W: expected 2 rows (two hidden units)")
    rows = []
    for j, row in enumerate(W):
        if isinstance(row, list):
            if D is None:
                raise InputError(f"{where}.W[{j}]: a row given as a list needs a fixed D (give D, or one entry for all inputs)")
            if len(row) != D:
                raise InputError(f"{where}.W[{j}]: expected {D} entries, got {len(row)}")
            rows.append([_value(e, f"{where}.W[{j}][{i}]", True) for i, e in enumerate(row)])
        else:
            rows.append(_value(row, f"{where}.W[{j}]", True))  # broadcast
    vecs = {}
    for k in ("b", "v"):
        raw = claims[k]
        if not isinstance(raw, list) or len(raw) != 2:
            raise InputError(f"{where}.{k}: expected a list of 2 entries")
        vecs[k] = [_value(e, f"{where}.{k}[{i}]", True) for i, e in enumerate(raw)]
    v0 = _value(claims["v0"], f"{where}.v0", True)
    text = "; ".join(f"{k} = {claims[k]!r}" for k in ("W", "b", "v", "v0"))
    return {"W": rows, "b": vecs["b"], "v": vecs["v"], "v0": v0, "D": D, "A": A, "B": B, "text": text}


def _instances(p: dict, max_D: int):
    Ds = [p["D"]] if p["D"] is not None else range(1, max_D + 1)
    for D in Ds:
        for A in ([p["A"]] if p["A"] is not None else range(-D, D + 1)):
            for B in ([p["B"]] if p["B"] is not None else range(A, D + 1)):
                if -D <= A <= B <= D:
                    yield D, A, B


def _eval_net(p: dict, kind: str, D: int, A: int, B: int):
    """(Net, None) or (None, (name, value text)) for the first non-integer weight."""
    subs = {SYM["D"]: D, SYM["A"]: A, SYM["B"]: B}

    def val(e, name):
        q = _frac(e.subs(subs)) if e.free_symbols else _frac(e)
        if q is None or q.denominator != 1:
            return None, (name, sp.sstr(sp.nsimplify(e.subs(subs))) if q is None else _frac_txt(q))
        return q, None

    W = []
    for j, row in enumerate(p["W"]):
        entries = row if isinstance(row, list) else [row]
        vals = []
        for i, e in enumerate(entries):
            q, bad = val(e, f"W[{j}][{i}]" if isinstance(row, list) else f"W[{j}]")
            if bad:
                return None, bad
            vals.append(q)
        W.append(vals if isinstance(row, list) else vals * D)
    out = {}
    for k in ("b", "v"):
        out[k] = []
        for i, e in enumerate(p[k]):
            q, bad = val(e, f"{k}[{i}]")
            if bad:
                return None, bad
            out[k].append(q)
    q, bad = val(p["v0"], "v0")
    if bad:
        return None, bad
    return bn.Net(kind, W, out["b"], out["v"], q), None


def _net_verdicts(p: dict, kind: str, max_D: int) -> list[Verdict]:
    base = p["text"]
    int_fail = None
    mismatch = None
    fragile = None
    n_inst = 0
    for D, A, B in _instances(p, max_D):
        net, bad = _eval_net(p, kind, D, A, B)
        n_inst += 1
        if bad:
            int_fail = int_fail or (D, A, B, bad)
            continue
        c = bn.check_network(net, D, A, B)
        if not c.correct and mismatch is None:
            mismatch = (D, A, B, c)
        elif not c.robust and fragile is None:
            fragile = (D, A, B, c)
        if int_fail and mismatch and fragile:
            break
    sampled = ""
    if p["D"] is None and mismatch is None and int_fail is None:
        rng = np.random.default_rng(0)
        for D in range(max_D + 1, max_D + 5):
            for _ in range(3):
                A = int(rng.integers(-D, D + 1))
                B = int(rng.integers(A, D + 1))
                net, bad = _eval_net(p, kind, D, A, B)
                if bad:
                    int_fail = int_fail or (D, A, B, bad)
                    continue
                X = bn.sample_corners(D, A, B, 512, rng)
                c = bn.check_network(net, D, A, B, X=X)
                if not c.correct and mismatch is None:
                    mismatch = (D, A, B, c)
        sampled = f"; sampled D = {max_D + 1}..{max_D + 4} (3 random (A, B) each, 512+ corners)"
    scope = f"{n_inst} instance(s) (D, A, B)" + sampled
    out = []
    if int_fail:
        D, A, B, (name, value) = int_fail
        out.append(Verdict(base + ": integer weights", False,
                           f"{name} = {value} is not an integer at D = {D}, A = {A}, B = {B}"))
    else:
        out.append(Verdict(base + ": integer weights", True, f"every weight and bias is an integer on {scope}"))
    if mismatch:
        D, A, B, c = mismatch
        out.append(Verdict(base + ": h = f on every corner", False,
                           f"first failing corner: D = {D}, A = {A}, B = {B}, x = {_corner_txt(c.x)}: {c.detail}"))
    else:
        out.append(Verdict(base + ": h = f on every corner", True if not int_fail or n_inst > 1 else None,
                           f"h(x) = f(x) at every corner of {scope}"
                           + (" (instances with non-integer weights skipped)" if int_fail else "")))
    if fragile:
        D, A, B, c = fragile
        where = (f"hidden unit {c.unit} pre-activation is 0" if c.failure == "zero-hidden"
                 else "output pre-activation is 0")
        dtxt = ("; with direction v = (" + ", ".join(f"{a:g}" for a in c.direction) + ") the output h(x + t v) "
                f"tends to {-c.h} != h(x) = {c.h} as t -> 0+") if c.direction is not None else \
            "; no flipping direction found among the candidates, but the tie is decided only by sign(0) = +1"
        out.append(Verdict(base + ": robust to infinitesimal perturbations", False,
                           f"D = {D}, A = {A}, B = {B}, x = {_corner_txt(c.x)}: {where}" + dtxt))
    else:
        out.append(Verdict(base + ": robust to infinitesimal perturbations", mismatch is None or None,
                           "no zero " + ("hidden or output " if kind == "sign" else "output ")
                           + f"pre-activation at any corner of the correctly computed instances ({scope})"))
    return out


def _reference_checks(r: Result, kind: str, max_D: int) -> None:
    ref = bn.reference_sign if kind == "sign" else bn.reference_relu
    first_bad = None
    n = 0
    for D, A, B in bn.valid_instances(max_D):
        c = bn.check_network(ref(D, A, B), D, A, B)
        n += 1
        if not c.ok:
            first_bad = (D, A, B, c)
            break
    r.checks.append(Check("reference network computes f robustly", f"exhaustive over all 2^D corners, exact "
                          f"integers, {n} instances with D <= {max_D}", first_bad is None,
                          "" if first_bad is None else f"fails at {first_bad[:3]}, x = {first_bad[3].x}: {first_bad[3].detail}"))
    rng = np.random.default_rng(0)
    bad = None
    for D in range(max_D + 1, max_D + 9):
        for _ in range(4):
            A = int(rng.integers(-D, D + 1))
            B = int(rng.integers(A, D + 1))
            X = bn.sample_corners(D, A, B, 256, rng)
            c = bn.check_network(ref(D, A, B), D, A, B, X=X)
            if not c.ok:
                bad = (D, A, B, c)
    r.checks.append(Check("reference network beyond max_D", f"sampled corners (incl. sums next to A and B), "
                          f"D = {max_D + 1}..{max_D + 8}", bad is None, "" if bad is None else str(bad[:3])))
    ok = all(bn.perturbation_test(ref(D, A, B), D, A, B, rng) for D, A, B in bn.valid_instances(min(max_D, 5)))
    r.checks.append(Check("random perturbations x + t v leave h unchanged", "floating point, t = 1e-7, "
                          "3 random v per corner, D <= 5", ok))


def _solve_net(pid: str, title: str, kind: str, params: dict, claims: Optional[dict]) -> Result:
    t0 = time.perf_counter()
    max_D = int(params.get("max_D", 12))
    if not 1 <= max_D <= 14:
        raise InputError(f"parameter max_D: expected 1 <= max_D <= 14, got {max_D}")
    parsed = _parse_net_claims(claims, pid) if claims else None
    r = Result(problem_id=pid, title=title, params=dict(params), random_state=0)
    _f_steps(r)
    if kind == "sign":
        r.steps.append(Step(
            text="Two threshold units test sum x >= A and sum x <= B. Since sum x and A are integers, put the "
                 "threshold half-way (multiply by 2 to keep integer weights): the pre-activations are odd, hence "
                 "never 0 at a corner.",
            math=r"z_1=2\sum_i x_i-2A+1,\qquad z_2=2B+1-2\sum_i x_i,\qquad h_j=\mathrm{sign}(z_j)",
            rule="construction"))
        r.steps.append(Step(
            text="The output is +1 only when both hidden units are +1 (values 1, -1, -3: never 0):",
            math=r"h(x)=\mathrm{sign}(h_1+h_2-1),\quad W=\begin{pmatrix}2&\cdots&2\\-2&\cdots&-2\end{pmatrix},\ "
                 r"b=\begin{pmatrix}1-2A\\2B+1\end{pmatrix},\ v=\begin{pmatrix}1\\1\end{pmatrix},\ v_0=-1",
            rule="construction"))
        r.steps.append(Step(
            text="Robustness: all pre-activations are non-zero at every corner, so by continuity every unit keeps "
                 "its sign on a neighbourhood of each corner; hence lim h(x + t v) = h(x) for every v.",
            rule="continuity"))
    else:
        r.steps.append(Step(
            text="Each ReLU measures how far sum x lies outside [A, B] on one side (0 inside):",
            math=r"a_1=\max\big(0,\,A-\textstyle\sum_i x_i\big),\qquad a_2=\max\big(0,\,\textstyle\sum_i x_i-B\big)",
            rule="construction"))
        r.steps.append(Step(
            text="Outside [A, B] one of them is a positive integer (sum x and A, B are integers), so the output "
                 "pre-activation is 1 inside and at most -1 outside: odd, never 0.",
            math=r"h(x)=\mathrm{sign}(1-2a_1-2a_2),\quad W=\begin{pmatrix}-1&\cdots&-1\\1&\cdots&1\end{pmatrix},\ "
                 r"b=\begin{pmatrix}A\\-B\end{pmatrix},\ v=\begin{pmatrix}-2\\-2\end{pmatrix},\ v_0=1",
            rule="construction"))
        r.steps.append(Step(
            text="Robustness: the output pre-activation is continuous in x (ReLU is continuous) and non-zero at "
                 "every corner, so the sign output is locally constant there.",
            rule="continuity"))
        if {"D", "A", "B"} <= set(params):
            D, A, B = int(params["D"]), int(params["A"]), int(params["B"])
            if not (D >= 1 and -D <= A <= B <= D):
                raise InputError("parameters D, A, B: expected D >= 1 and -D <= A <= B <= D")
            att = bn.attainable_in(D, A, B)
            r.steps.append(Step(
                text=f"Partial instance D = {D}, A = {A}, B = {B}: the attainable sums in [A, B] are "
                     f"{att if att else 'none'}" + ("; f is the constant -1 (degenerate)." if not att else "."),
                math=rf"W=\begin{{pmatrix}}{'&'.join(['-1'] * D)}\\{'&'.join(['1'] * D)}\end{{pmatrix}},\ "
                     rf"b=\begin{{pmatrix}}{A}\\{-B}\end{{pmatrix}},\ v=\begin{{pmatrix}}-2\\-2\end{{pmatrix}},\ v_0=1",
                rule="instance"))
            X = bn.cached_corners(D)
            Z, u, h = bn.forward(bn.reference_relu(D, A, B), X)
            fx = bn.f_values(X, A, B)
            r.tables.append(Table(caption=f"Reference ReLU network on D = {D}, A = {A}, B = {B}",
                                  columns=["x", "sum x", "a1", "a2", "output pre-activation", "h(x)", "f(x)"],
                                  rows=[[_corner_txt(x), str(int(x.sum())), str(max(0, int(z[0]))),
                                         str(max(0, int(z[1]))), str(int(uu)), f"{int(hh):+d}", f"{int(ff):+d}"]
                                        for x, z, uu, hh, ff in zip(X[:16], Z, u, h, fx)]))
    _reference_checks(r, kind, max_D)
    r.summary = (f"reference {'sign' if kind == 'sign' else 'ReLU'} network verified on every corner of every valid "
                 f"(D, A, B) with D <= {max_D}")
    if parsed:
        r.verdicts.extend(_net_verdicts(parsed, kind, max_D))
    r.timings["total_s"] = time.perf_counter() - t0
    return r


def solve_q3_1b(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    return _solve_net("ist23.q3.1b", "Two sign hidden units, integer weights", "sign", params, claims)


def solve_q3_1c(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    return _solve_net("ist23.q3.1c", "ReLU hidden units", "relu", params, claims)
