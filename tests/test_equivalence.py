"""theory.equivalence: exact proofs, numeric-only agreement, and refutations with a point."""
import pytest
import sympy as sp

from theory import equivalence
from theory.equivalence import equivalent, equivalent_matrix

z = sp.Symbol("z", real=True)
x = sp.Symbol("x", real=True)
S = 1 / (1 + sp.exp(-z))


def test_equal_exact():
    e = equivalent(S * (1 - S), sp.exp(-z) / (1 + sp.exp(-z)) ** 2, [z])
    assert e.equal is True and e.method == "exact" and "proved" in e.evidence


def test_equal_exact_after_rewriting_tanh_in_exp():
    e = equivalent(sp.tanh(z), 2 / (1 + sp.exp(-2 * z)) - 1, [z])
    assert e.equal is True and e.method == "exact"


def test_equal_only_numerically():
    # log x + log(x+1) = log(x(x+1)) holds for x > 0 but simplify cannot prove it for real x;
    # points where a side is undefined (x <= 0) are skipped
    e = equivalent(sp.log(x) + sp.log(x + 1), sp.log(x * (x + 1)), [x])
    assert e.equal is True and e.method == "numeric"
    assert "not proved; agrees at 20 random points (50 digits)" in e.evidence


def test_numeric_path_forced(monkeypatch):
    monkeypatch.setattr(equivalence, "_proved_zero", lambda diff: None)
    e = equivalent(S * (1 - S), sp.exp(-z) / (1 + sp.exp(-z)) ** 2, [z], points=10)
    assert e.equal is True and e.method == "numeric" and "agrees at 10 random points" in e.evidence
    bad = equivalent(S ** 2, S * (1 - S), [z])
    assert bad.equal is False


def test_unequal_reports_point_and_values():
    e = equivalent(S ** 2, S * (1 - S), [z])
    assert e.equal is False and e.method == "numeric"
    assert set(e.point) == {"z"} and e.claimed_value != e.derived_value
    assert "differs at (z = " in e.evidence and "claimed = " in e.evidence and "derived = " in e.evidence
    assert e.residual and "simplifies to" in e.evidence


def test_tiny_difference_is_not_equal():
    e = equivalent(x + sp.Rational(1, 10 ** 20), x, [x])
    assert e.equal is False


def test_abs_is_not_identity_on_the_reals():
    e = equivalent(sp.sqrt(x ** 2), x, [x])
    assert e.equal is False and float(e.point["x"]) < 0


def test_domain_restricts_sampling():
    e = equivalent(sp.sqrt(x ** 2), x, [x], domain={"x": (0.1, 5)})
    assert e.equal is True and e.method == "numeric"


def test_undefined_everywhere_is_undecided():
    e = equivalent(sp.log(-x ** 2 - 1), sp.log(-x ** 2 - 1) + 1, [x], points=5)
    assert e.equal is None and "undecided" in e.evidence


def test_matrix_first_differing_entry():
    M = sp.Matrix([[S, 1 - S], [S * (1 - S), z]])
    good = sp.Matrix([[1 / (1 + sp.exp(-z)), sp.exp(-z) / (1 + sp.exp(-z))], [sp.exp(-z) / (1 + sp.exp(-z)) ** 2, z]])
    assert equivalent_matrix(good, M, [z]).equal is True
    bad = good.copy()
    bad[1, 0] = S ** 2
    e = equivalent_matrix(bad, M, [z])
    assert e.equal is False and e.entry == (1, 0) and e.evidence.startswith("entry (2, 1)")
    assert equivalent_matrix(sp.Matrix([S]), M, [z]).equal is False


# ---------------------------------------------------------------- piecewise (kinks)

RELU_PRIME = sp.diff(sp.Max(0, z), z)          # SymPy: Heaviside(z), 1/2 at z = 0
IND = sp.Piecewise((1, z > 0), (0, True))      # indicator(z > 0), 0 at z = 0


def test_relu_derivative_conventions_at_the_kink():
    strict = equivalent(IND, RELU_PRIME, [z])
    assert strict.equal is False and strict.point == {"z": "0"}
    assert "at the kink z = 0" in strict.evidence and "claimed = 0, derived = 1/2" in strict.evidence
    anyk = equivalent(IND, RELU_PRIME, [z], kink="any")
    assert anyk.equal is True and anyk.method == "exact" and "either convention" in anyk.evidence
    other = equivalent(sp.Piecewise((1, z >= 0), (0, True)), RELU_PRIME, [z], kink="any")
    assert other.equal is True and "claimed = 1, derived = 1/2" in other.evidence


def test_wrong_piecewise_claim_names_the_region():
    e = equivalent(sp.Piecewise((1, z < 0), (0, True)), RELU_PRIME, [z], kink="any")
    assert e.equal is False and "on the region z < 0" in e.evidence and float(e.point["z"]) < 0


def test_region_proofs_in_two_variables():
    y = sp.Symbol("y", real=True)
    e = equivalent(sp.Max(x, y), (x + y + sp.Abs(x - y)) / 2, [x, y])
    assert e.equal is True and "2 of 2 sign region(s)" in e.evidence
    bad = equivalent(sp.Max(x, y), (x + y + sp.Abs(x + y)) / 2, [x, y])
    assert bad.equal is False and "on the region" in bad.evidence
    e = equivalent(sp.Max(0, x) - sp.Max(0, -x), x, [x])
    assert e.equal is True and e.method == "exact"


def test_kink_mode_is_validated():
    import pytest

    with pytest.raises(ValueError, match="kink"):
        equivalent(z, z, [z], kink="left")


def test_running_out_of_memory_is_not_read_as_no_proof(monkeypatch):
    """A MemoryError inside a simplification route propagates (the sandbox reports the memory limit)
    instead of counting as "this route found no proof"."""
    def exhausted(expr):
        raise MemoryError

    monkeypatch.setattr(equivalence, "_transforms", lambda: [exhausted])
    with pytest.raises(MemoryError):
        equivalence._proved_zero(sp.Symbol("x") - sp.Symbol("y"))
