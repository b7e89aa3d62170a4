"""Parse untrusted expression text into SymPy objects without ``eval``.

The text is parsed by :func:`ast.parse` and the tree is walked against a
whitelist: numbers, names, + - * / ** (and unary +/-), calls of whitelisted
functions, and tuples/lists. Everything else (attribute access other than the
transpose ``.T``, subscripts, lambdas, comprehensions, keywords, strings,
f-strings, ...) is refused with an :class:`ExprError` naming what and where.

Matrix notation: names given in ``matrices`` stand for SymPy matrices (a
K-vector is a K x 1 Matrix); ``p.T`` transposes, ``*`` and ``@`` multiply
matrices (a 1 x 1 product becomes a scalar), ``diag(p)``, ``eye(n)``,
``kron(A, B)``, ``trace(A)``, ``inv(A)`` and ``pinv(A)`` build and reduce
matrices. Comparisons are
allowed only as the argument of ``indicator``/``step``/``Heaviside``:
``indicator(z > 0)`` is 1 where ``z > 0`` holds and 0 elsewhere (so 0 at z = 0);
``Heaviside(z)`` and ``step(z)`` are SymPy's Heaviside, 1/2 at 0. Limits bound the text length, the
number of nodes, the nesting depth, the size of integer literals and of
exponents, and the wall time.

>>> parse_expr("x**2*y + 3/2")
x**2*y + 3/2
>>> parse_expr("1.5") == parse_expr("3/2")
True
>>> p = sp.Matrix(sp.symbols("p1:3", positive=True))
>>> parse_expr("diag(p) - p*p.T", matrices={"p": p}).tolist()
[[-p1**2 + p1, -p1*p2], [-p1*p2, -p2**2 + p2]]
>>> parse_expr("indicator(z > 0)")
Piecewise((1, z > 0), (0, True))
>>> parse_expr("__import__('os')")
Traceback (most recent call last):
...
theory.parse.ExprError: name '__import__' is not allowed (names may not start with '_') at column 1
"""
from __future__ import annotations

import ast
import re
import signal
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterable, Optional

import sympy as sp

from problems.errors import InputError

MAX_CHARS = 4000
MAX_NODES = 1500
MAX_DEPTH = 60
MAX_INT_DIGITS = 60
MAX_EXPONENT = 200
MAX_RESULT_BITS = 4096
MAX_MATRIX_ENTRIES = 400
MAX_EYE = 20
TIME_LIMIT_S = 5.0

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,23}$")


class ExprError(InputError):
    """An expression was refused or could not be parsed."""


class Timeout(ExprError):
    """An operation on a user expression ran past its time limit."""


def relu(z):
    """ReLU as a SymPy expression: ``Max(0, z)``."""
    return sp.Max(0, z)


def sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def _sign(z):
    return sp.sign(z)


# The functions a claim may call. Each maps to a SymPy constructor.
FUNCTIONS: dict[str, Callable] = {
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": sp.tanh,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "atan": sp.atan,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "sign": _sign,
    "relu": relu,
    "sigmoid": sigmoid,
    "Max": sp.Max,
    "Min": sp.Min,
    "max": sp.Max,
    "min": sp.Min,
    "Heaviside": sp.Heaviside,
    "heaviside": sp.Heaviside,
    "indicator": sp.Heaviside,
    "delta": sp.KroneckerDelta,
    "KroneckerDelta": sp.KroneckerDelta,
    "Rational": sp.Rational,
}

CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E, "e": sp.E, "oo": sp.oo}

# Functions whose single argument may be a comparison: indicator(z > 0).
INDICATORS = ("indicator", "step", "Heaviside", "heaviside")
FUNCTIONS["step"] = sp.Heaviside

# Functions that build or take matrices (handled by _Builder._matrix_call).
MATRIX_FUNCTIONS = ("diag", "eye", "kron", "trace", "inv", "pinv")
MAX_INVERSE = 6  # inv/pinv of at most 6 x 6 numbers, or 3 x 3 with symbols

_COMPARE = {ast.Gt: sp.StrictGreaterThan, ast.GtE: sp.GreaterThan, ast.Lt: sp.StrictLessThan,
            ast.LtE: sp.LessThan}


def is_matrix(value) -> bool:
    """True for a SymPy matrix (what a matrix-valued claim parses to)."""
    return isinstance(value, sp.MatrixBase)


def _shape(m) -> str:
    return f"{m.rows}x{m.cols}"


_LIMITS: list[tuple[float, float, str]] = []   # (deadline, seconds, what) of the active limits, outermost first


def _expired(signum, frame):
    """SIGALRM: the limit with the earliest deadline ran out (of equal ones the outermost): its message."""
    _, seconds, what = min(_LIMITS, key=lambda e: e[0])
    raise Timeout(f"{what} did not finish within {seconds:g} s")


@contextmanager
def time_limit(seconds: float, what: str = "operation"):
    """Raise :class:`Timeout` if the block runs longer than ``seconds``.

    Uses ``SIGALRM`` (Python code, SymPy included, is interruptible between
    bytecodes); outside the main thread it is a no-op. Limits nest: the timer is set for the nearest
    deadline, and the message names the limit that ran out (an enclosing one, if it ends first).
    """
    if seconds is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    old = signal.signal(signal.SIGALRM, _expired)
    previous = signal.setitimer(signal.ITIMER_REAL, 0)[0]  # an enclosing limit's remaining time
    start = time.monotonic()
    _LIMITS.append((start + seconds, seconds, what))
    signal.setitimer(signal.ITIMER_REAL, min(seconds, previous) if previous > 0 else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _LIMITS.pop()
        signal.signal(signal.SIGALRM, old)
        if previous > 0:  # re-arm the enclosing limit with what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(previous - (time.monotonic() - start), 1e-3))


def _where(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" at column {col + 1}" if col is not None else ""


class _Builder:
    def __init__(self, text: str, symbols: dict[str, sp.Symbol], allow_new_symbols: bool,
                 functions: dict[str, Callable], matrices: Optional[dict[str, sp.MatrixBase]] = None):
        self.text = text
        self.symbols = symbols
        self.allow_new = allow_new_symbols
        self.functions = functions
        self.matrices = matrices or {}
        self.nodes = 0

    def build(self, node: ast.AST, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExprError(f"expression too large (more than {MAX_NODES} nodes)")
        if depth > MAX_DEPTH:
            raise ExprError(f"expression nested too deeply (more than {MAX_DEPTH} levels)")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ExprError(f"{_describe(node)} is not allowed{_where(node)}")
        return method(node, depth + 1)

    # numbers --------------------------------------------------------
    def _Constant(self, node: ast.Constant, depth):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExprError(f"literal {type(v).__name__} is not allowed{_where(node)}")
        src = ast.get_source_segment(self.text, node) or repr(v)
        src = src.replace("_", "")
        if isinstance(v, int):
            if len(src.lstrip("0")) > MAX_INT_DIGITS:
                raise ExprError(f"integer literal longer than {MAX_INT_DIGITS} digits{_where(node)}")
            return sp.Integer(v)
        # a decimal literal becomes the exact rational it spells: 1.5 -> 3/2
        mantissa = re.split(r"[eE]", src)[0]
        if len(mantissa) > MAX_INT_DIGITS:
            raise ExprError(f"number literal longer than {MAX_INT_DIGITS} digits{_where(node)}")
        exp_part = re.split(r"[eE]", src)[1:] or ["0"]
        if abs(int(exp_part[0])) > MAX_EXPONENT:
            raise ExprError(f"number exponent larger than {MAX_EXPONENT}{_where(node)}")
        return sp.Rational(src)

    # names ----------------------------------------------------------
    def _Name(self, node: ast.Name, depth):
        name = node.id
        if name.startswith("_"):
            raise ExprError(f"name {name!r} is not allowed (names may not start with '_'){_where(node)}")
        if name in self.matrices:
            return _unwrap(sp.Matrix(self.matrices[name]))
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.functions or name in MATRIX_FUNCTIONS:
            raise ExprError(f"function {name!r} must be called with arguments{_where(node)}")
        if not self.allow_new:
            known = ", ".join(sorted(self.symbols)) or "none"
            raise ExprError(f"unknown name {name!r}{_where(node)} (known symbols: {known})")
        if not _IDENT.match(name):
            raise ExprError(f"name {name!r} is not allowed{_where(node)}")
        sym = sp.Symbol(name, real=True)
        self.symbols[name] = sym
        return sym

    # operators ------------------------------------------------------
    def _BinOp(self, node: ast.BinOp, depth):
        op = type(node.op)
        if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult):
            raise ExprError(f"operator {_describe(node.op)} is not allowed{_where(node)}")
        left = self.build(node.left, depth)
        right = self.build(node.right, depth)
        _scalar(left, node), _scalar(right, node)
        if is_matrix(left) or is_matrix(right) or op is ast.MatMult:
            return self._matrix_binop(op, left, right, node)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            if right == 0:
                raise ExprError(f"division by zero{_where(node)}")
            return left / right
        if right.is_number:
            if abs(complex(sp.N(right, 15))) > MAX_EXPONENT:
                raise ExprError(f"exponent {sp.sstr(right)[:30]} exceeds the limit of {MAX_EXPONENT}{_where(node)}")
        if left.is_number and right.is_number and left != 0:
            # bound the size of an exact power before computing it: |e| * log2|b|
            bits = abs(float(sp.N(right, 15))) * abs(float(sp.N(sp.log(sp.Abs(left), 2), 15)))
            if bits > MAX_RESULT_BITS:
                raise ExprError(f"power too large (about 2**{bits:.0f}){_where(node)}")
        if left.is_number and right.is_number and left == 0 and (right.is_negative or right == 0):
            raise ExprError(f"0 raised to a non-positive power{_where(node)}")
        return left ** right

    def _matrix_binop(self, op, left, right, node):
        lm, rm = is_matrix(left), is_matrix(right)
        if op is ast.MatMult and not (lm and rm):
            raise ExprError(f"operator @ is allowed only between matrices{_where(node)}")
        if op in (ast.Add, ast.Sub) and (left.shape if lm else right.shape) == (1, 1):
            left, right = _unwrap(left), _unwrap(right)
            return left + right if op is ast.Add else left - right
        if op in (ast.Add, ast.Sub):
            if not (lm and rm):
                m = left if lm else right
                raise ExprError(f"cannot add a scalar and a {_shape(m)} matrix{_where(node)}")
            if left.shape != right.shape:
                raise ExprError(f"cannot add matrices of shapes {_shape(left)} and {_shape(right)}{_where(node)}")
            return left + right if op is ast.Add else left - right
        if op in (ast.Mult, ast.MatMult):
            if lm and rm:
                if left.cols != right.rows:
                    raise ExprError(f"matrix product of shapes {_shape(left)} and {_shape(right)} is undefined"
                                    f"{_where(node)} (use .T to transpose)")
                return _unwrap(self._sized(left * right, node))
            return left * right
        if op is ast.Div:
            if rm:
                raise ExprError(f"cannot divide by a matrix{_where(node)}")
            if right == 0:
                raise ExprError(f"division by zero{_where(node)}")
            return left / right
        raise ExprError(f"powers of matrices are not allowed{_where(node)}")

    def _sized(self, m, node):
        if m.rows * m.cols > MAX_MATRIX_ENTRIES:
            raise ExprError(f"matrix larger than {MAX_MATRIX_ENTRIES} entries{_where(node)}")
        return m

    def _UnaryOp(self, node: ast.UnaryOp, depth):
        if isinstance(node.op, ast.USub):
            return -_scalar(self.build(node.operand, depth), node)
        if isinstance(node.op, ast.UAdd):
            return _scalar(self.build(node.operand, depth), node)
        raise ExprError(f"operator {_describe(node.op)} is not allowed{_where(node)}")

    def _Attribute(self, node: ast.Attribute, depth):
        if node.attr != "T":
            raise ExprError(f"attribute access is not allowed{_where(node)} (only .T, the transpose)")
        value = _scalar(self.build(node.value, depth), node)
        return value.T if is_matrix(value) else value

    def _Call(self, node: ast.Call, depth):
        if not isinstance(node.func, ast.Name):
            raise ExprError(f"only named functions may be called{_where(node)}")
        name = node.func.id
        if name.startswith("_"):
            raise ExprError(f"name {name!r} is not allowed (names may not start with '_'){_where(node)}")
        if name not in self.functions and name not in MATRIX_FUNCTIONS:
            allowed = ", ".join(sorted(set(self.functions) | set(MATRIX_FUNCTIONS)))
            raise ExprError(f"function {name!r} is not allowed{_where(node)} (allowed: {allowed})")
        if node.keywords:
            raise ExprError(f"keyword arguments are not allowed{_where(node)}")
        if not 1 <= len(node.args) <= 8:
            raise ExprError(f"{name}() takes 1 to 8 arguments{_where(node)}")
        if name in INDICATORS and len(node.args) == 1 and isinstance(node.args[0], ast.Compare):
            return self._indicator(node.args[0], depth)
        if name in MATRIX_FUNCTIONS:
            return self._matrix_call(name, [_scalar(self.build(a, depth), node) for a in node.args], node)
        args = [_scalar(self.build(a, depth), node) for a in node.args]
        for a in args:
            if is_matrix(a):
                raise ExprError(f"{name}() takes scalars, got a {_shape(a)} matrix{_where(node)}")
        try:
            return self.functions[name](*args)
        except (TypeError, ValueError) as exc:
            raise ExprError(f"{name}(): {exc}{_where(node)}") from None

    def _indicator(self, node: ast.Compare, depth):
        self.nodes += 1
        if len(node.ops) != 1:
            raise ExprError(f"an indicator takes one comparison (a < b), not a chain{_where(node)}")
        op = type(node.ops[0])
        if op not in _COMPARE:
            raise ExprError(f"comparison {_describe(node.ops[0])} is not allowed{_where(node)} (use <, <=, >, >=)")
        left = _scalar(self.build(node.left, depth), node)
        right = _scalar(self.build(node.comparators[0], depth), node)
        if is_matrix(left) or is_matrix(right):
            raise ExprError(f"an indicator compares scalars{_where(node)}")
        try:
            cond = _COMPARE[op](left, right)
        except TypeError as exc:
            raise ExprError(f"cannot compare: {exc}{_where(node)}") from None
        if cond in (sp.true, sp.false):
            return sp.Integer(1 if cond else 0)
        return sp.Piecewise((1, cond), (0, True))

    def _matrix_call(self, name, args, node):
        if name == "diag":
            entries = []
            for a in args:
                if is_matrix(a):
                    if 1 not in a.shape:
                        raise ExprError(f"diag() takes a vector, got a {_shape(a)} matrix{_where(node)}")
                    entries += list(a)
                else:
                    entries.append(a)
            return self._sized(sp.diag(*entries), node) if len(entries) > 1 else _unwrap(sp.Matrix([entries]))
        if name == "eye":
            if len(args) != 1 or is_matrix(args[0]) or not args[0].is_Integer or not 1 <= args[0] <= MAX_EYE:
                raise ExprError(f"eye(n) takes one integer 1 <= n <= {MAX_EYE}{_where(node)}")
            return sp.eye(int(args[0]))
        if name == "kron":
            if len(args) != 2:
                raise ExprError(f"kron(A, B) takes two arguments{_where(node)}")
            A, B = (a if is_matrix(a) else sp.Matrix([[a]]) for a in args)
            if A.rows * A.cols * B.rows * B.cols > MAX_MATRIX_ENTRIES:
                raise ExprError(f"matrix larger than {MAX_MATRIX_ENTRIES} entries{_where(node)}")
            return _unwrap(sp.Matrix(sp.kronecker_product(A, B)))
        if name in ("inv", "pinv"):
            if len(args) != 1 or not is_matrix(args[0]):
                raise ExprError(f"{name}() takes one matrix{_where(node)}")
            A = args[0]
            limit = MAX_INVERSE if not A.free_symbols else 3
            if min(A.shape) > limit or (A.free_symbols and max(A.shape) > limit):
                raise ExprError(f"{name}() of a {_shape(A)} matrix is too large (at most {limit}x{limit}"
                                f"{'' if not A.free_symbols else ' with symbols'}){_where(node)}")
            if name == "pinv":
                return A.pinv()
            if A.rows != A.cols:
                raise ExprError(f"inv() takes a square matrix, got {_shape(A)}{_where(node)} (use pinv)")
            try:
                return A.inv()
            except ValueError:
                raise ExprError(f"inv(): the matrix is singular (not invertible){_where(node)}") from None
        # trace
        if len(args) != 1 or not is_matrix(args[0]) or args[0].rows != args[0].cols:
            raise ExprError(f"trace() takes one square matrix{_where(node)}")
        return args[0].trace()

    def _Tuple(self, node, depth):
        return tuple(self.build(e, depth) for e in node.elts)

    def _List(self, node, depth):
        return [self.build(e, depth) for e in node.elts]

    def _Expression(self, node, depth):
        return self.build(node.body, depth)


def _scalar(value, node):
    if isinstance(value, (tuple, list)):
        raise ExprError(f"a tuple or list cannot be used in arithmetic{_where(node)}")
    return value


def _unwrap(m):
    """A 1 x 1 matrix becomes its entry (p.T*p is a scalar)."""
    return m[0, 0] if is_matrix(m) and m.shape == (1, 1) else m


def _describe(node: ast.AST) -> str:
    names = {
        "Attribute": "attribute access", "Subscript": "subscripting", "Lambda": "lambda",
        "ListComp": "a comprehension", "GeneratorExp": "a generator", "SetComp": "a comprehension",
        "DictComp": "a comprehension", "JoinedStr": "an f-string", "Starred": "starred arguments",
        "Compare": "a comparison (allowed only inside indicator(...))", "BoolOp": "a boolean operator", "IfExp": "a conditional",
        "NamedExpr": "an assignment", "Dict": "a dict", "Set": "a set", "Await": "await",
        "Yield": "yield", "MatMult": "@", "Eq": "==", "NotEq": "!=", "Is": "is", "IsNot": "is not",
        "In": "in", "NotIn": "not in", "Mod": "%", "FloorDiv": "//", "BitXor": "^ (use ** for powers)",
        "BitAnd": "&", "BitOr": "|", "LShift": "<<", "RShift": ">>", "Invert": "~", "Not": "not",
    }
    return names.get(type(node).__name__, type(node).__name__)


def parse_expr(text: str, symbols: Optional[Iterable[sp.Symbol] | dict[str, sp.Symbol]] = None, *,
               allow_new_symbols: bool = True, functions: Optional[dict[str, Callable]] = None,
               time_limit_s: float = TIME_LIMIT_S, matrices: Optional[dict[str, sp.MatrixBase]] = None):
    """Parse ``text`` into a SymPy expression (or a tuple/list of them).

    ``symbols`` are the problem's own symbols; unknown names become new real
    symbols unless ``allow_new_symbols`` is False. ``matrices`` maps names to
    SymPy matrices (a K-vector as a K x 1 Matrix); a claim using them may
    parse to a (mutable) ``sympy.Matrix``, which is not an ``sp.Expr``.
    """
    if not isinstance(text, str):
        raise ExprError(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ExprError(f"expression longer than {MAX_CHARS} characters")
    if "\x00" in text:
        raise ExprError("expression contains a NUL character")
    stripped = text.strip()
    if not stripped:
        raise ExprError("empty expression")
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"syntax error{col}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExprError(f"cannot parse: {type(exc).__name__}") from None
    if isinstance(symbols, dict):
        table = dict(symbols)
    else:
        table = {s.name: s for s in (symbols or [])}
    for name, m in (matrices or {}).items():
        if not is_matrix(m):
            raise TypeError(f"matrices[{name!r}] must be a SymPy matrix, got {type(m).__name__}")
    builder = _Builder(stripped, table, allow_new_symbols, functions or FUNCTIONS, matrices)
    try:
        with time_limit(time_limit_s, "building the expression"):
            return builder.build(tree)
    except RecursionError:
        raise ExprError("expression nested too deeply") from None


def parse_number(value) -> sp.Expr:
    """A number from TOML (int, float) or text, as an exact SymPy number."""
    if isinstance(value, bool):
        raise ExprError("expected a number, got a boolean")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ExprError(f"expected a finite number, got {value}")
        return sp.Rational(repr(value))
    expr = parse_expr(value, allow_new_symbols=False)
    if isinstance(expr, (tuple, list)) or not expr.is_number:
        raise ExprError(f"expected a number, got {value!r}")
    return expr
