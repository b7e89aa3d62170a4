"""The claim parser builds SymPy objects from a whitelist and refuses everything else."""
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from theory.parse import ExprError, parse_expr, parse_number

CANARY = []


@pytest.mark.parametrize("text, why", [
    ("__import__('os')", "not allowed"),
    ("__import__('os').system('touch /tmp/pwned')", "only named functions"),
    ("x.__class__", "attribute access"),
    ("().__class__.__bases__[0].__subclasses__()", "only named functions"),
    ("().__class__.__bases__", "attribute access"),
    ("(lambda: 1)()", "only named functions"),
    ("lambda: 1", "lambda"),
    ("exp[0]", "subscripting"),
    ("abs[0]", "subscripting"),
    ("print(1)", "function 'print' is not allowed"),
    ("open('/etc/passwd')", "function 'open' is not allowed"),
    ("9**9**9", "exceeds the limit"),
    ("((2**200)**200)**200", "too large"),
    ("10**100000", "exceeds the limit"),
    ("1" * 100, "longer than"),
    ("[x for x in (1, 2)]", "comprehension"),
    ("f'{x}'", "f-string"),
    ("'text'", "literal str"),
    ("x if y else z", "conditional"),
    ("x @ y", "@"),
    ("x ^ 2", "use \\*\\* for powers"),
    ("exp(x=1)", "keyword"),
    ("1/0", "division by zero"),
    ("exp(" * 100 + "x" + ")" * 100, "nested"),
    ("-" * 500 + "x", "nested"),
    ("x +", "syntax error"),
    ("", "empty"),
])
def test_refuses_hostile_or_malformed_input(text, why):
    with pytest.raises(ExprError, match=why):
        parse_expr(text)


def test_accepts_math_with_exact_numbers():
    x, y = sp.symbols("x y", real=True)
    assert parse_expr("x**2*y + 3/2", [x, y]) == x**2 * y + sp.Rational(3, 2)
    assert parse_expr("1.5") == sp.Rational(3, 2)
    assert parse_expr("0.1") == sp.Rational(1, 10)
    assert parse_expr("1e-3") == sp.Rational(1, 1000)
    assert parse_expr("(1, 2.5)") == (1, sp.Rational(5, 2))
    assert parse_expr("sigmoid(x)", [x]) == 1 / (1 + sp.exp(-x))
    assert parse_expr("relu(x)", [x]) == sp.Max(0, x)
    assert parse_expr("sqrt(2)") == sp.sqrt(2)


def test_unknown_names_can_be_refused():
    x = sp.Symbol("x", real=True)
    with pytest.raises(ExprError, match="unknown name 'z'"):
        parse_expr("x + z", [x], allow_new_symbols=False)


def test_parse_number():
    assert parse_number(2) == 2
    assert parse_number(1.5) == sp.Rational(3, 2)
    assert parse_number("sqrt(2)/2") == sp.sqrt(2) / 2
    with pytest.raises(ExprError):
        parse_number("x")
    with pytest.raises(ExprError):
        parse_number(True)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_fails_cleanly(text):
    try:
        parse_expr(text)
    except ExprError:
        pass


_FRAGMENTS = ["dlcheck_canary()", "__builtins__", ".", "(", ")", "[0]", "x", "**", "9", "lambda:", ",",
              "exp", "__import__('builtins').dlcheck_canary()", "getattr", "+", "'s'", "eval"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12))
def test_grammar_shaped_input_never_executes(monkeypatch_free_parts):
    import builtins

    builtins.dlcheck_canary = lambda: CANARY.append(1)
    try:
        try:
            parse_expr("".join(monkeypatch_free_parts))
        except ExprError:
            pass
    finally:
        del builtins.dlcheck_canary
    assert not CANARY, "parsing executed code"


def test_time_limits_nest_and_fire():
    import time

    from theory.parse import Timeout, time_limit

    with pytest.raises(Timeout, match="inner"):
        with time_limit(3, "outer"):
            with time_limit(0.2, "inner"):
                time.sleep(1)
    with pytest.raises(Timeout):  # an inner limit cannot extend an outer one
        with time_limit(0.3, "outer"):
            with time_limit(5, "inner"):
                time.sleep(1)
            time.sleep(1)


def test_runaway_solve_becomes_an_error_result(monkeypatch):
    from problems import api
    from problems.registry import get

    monkeypatch.setattr(api, "SOLVER_TIME_LIMIT_S", 0.05)
    r = api.run_problem(get("hertie.1.1"), overrides={"f": "x**9*y**7*z**5 + x**8 + y**8 + z**8 - x*y*z + w**9*x**2 - w**7*y"})
    assert r.status == "error" and "did not finish" in r.error and not r.passed


# ---------------------------------------------------------------- matrix notation and indicators

P3 = sp.Matrix(sp.symbols("p1:4", positive=True))


@pytest.mark.parametrize("text", ["diag(p) - p*p.T", "diag(p) - p@p.T", "diag(p) - (p.T.T)*(p.T)"])
def test_matrix_notation_builds_a_K_by_K_matrix(text):
    m = parse_expr(text, matrices={"p": P3})
    assert isinstance(m, sp.MatrixBase) and m.shape == (3, 3)
    assert m == sp.diag(*P3) - P3 * P3.T


def test_matrix_helpers_and_scalar_products():
    assert parse_expr("p.T*p", matrices={"p": P3}) == sum(v ** 2 for v in P3)   # 1 x 1 becomes a scalar
    assert parse_expr("2*eye(2) - eye(2)/2") == sp.eye(2) * sp.Rational(3, 2)
    assert parse_expr("kron(eye(2), p)", matrices={"p": P3}).shape == (6, 2)
    assert parse_expr("trace(diag(p))", matrices={"p": P3}) == sum(P3)
    x = sp.Symbol("x", real=True)
    assert parse_expr("x.T", [x]) == x


@pytest.mark.parametrize("text, why", [
    ("p*p", "matrix product of shapes 3x1 and 3x1 is undefined"),
    ("p + 1", "cannot add a scalar and a 3x1 matrix"),
    ("p + p.T", "cannot add matrices of shapes 3x1 and 1x3"),
    ("exp(p)", "takes scalars"),
    ("p**2", "powers of matrices"),
    ("1/p", "cannot divide by a matrix"),
    ("p.shape", "attribute access"),
    ("p.T.__class__", "attribute access"),
    ("x @ p", "@ is allowed only between matrices"),
    ("eye(100)", "eye"),
    ("trace(p)", "square"),
    ("z > 0", "allowed only inside indicator"),
    ("indicator(z == 0)", "comparison == is not allowed"),
    ("indicator(0 < z < 1)", "not a chain"),
    ("exp(z > 0)", "a comparison"),
])
def test_matrix_and_comparison_misuse_is_refused(text, why):
    with pytest.raises(ExprError, match=why):
        parse_expr(text, matrices={"p": P3})


def test_indicators():
    z = sp.Symbol("z", real=True)
    ind = parse_expr("indicator(z > 0)", [z])
    assert ind.subs(z, 0) == 0 and ind.subs(z, 1) == 1 and ind.subs(z, -1) == 0
    assert parse_expr("indicator(z >= 0)", [z]).subs(z, 0) == 1
    assert parse_expr("step(z)", [z]) == sp.Heaviside(z) == parse_expr("indicator(z)", [z])
    assert parse_expr("indicator(1 > 0)") == 1


def test_inverse_and_pseudo_inverse():
    A = sp.Matrix([[2, 0], [0, 4]])
    assert parse_expr("inv(A)*A", matrices={"A": A}) == sp.eye(2)
    S = sp.Matrix([[1, 1], [1, 1]])
    assert parse_expr("pinv(S)", matrices={"S": S}) == S / 4
    with pytest.raises(ExprError, match="singular"):
        parse_expr("inv(S)", matrices={"S": S})
    with pytest.raises(ExprError, match="too large"):
        parse_expr("inv(eye(8))")


def test_nested_time_limits_name_the_limit_that_ran_out():
    import time as _time

    from theory.parse import Timeout, time_limit

    with pytest.raises(Timeout, match=r"^tau.t4 did not finish within 0.3 s$"):
        with time_limit(0.3, "tau.t4"):                       # the outer limit ends first
            with time_limit(5, "simplifying claimed - derived"):
                while True:
                    pass
    with pytest.raises(Timeout, match=r"^simplifying claimed - derived did not finish within 0.2 s$"):
        with time_limit(5, "tau.t4"):
            with time_limit(0.2, "simplifying claimed - derived"):
                while True:
                    pass
    give_up = _time.monotonic() + 10                         # a guard, not a timing assertion
    with pytest.raises(Timeout, match="^tau.t4"):           # the outer limit is re-armed after an inner one
        with time_limit(0.5, "tau.t4"):
            with time_limit(0.1, "inner"):
                pass
            while _time.monotonic() < give_up:
                pass
