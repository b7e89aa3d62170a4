"""Shared machinery of the experiment problems: run configurations under the current run context,
and turn run outputs into figures, tables, measurable proxies and claim verdicts.

An experiment solver is a pure function ``solve(params, claims) -> Result`` like any other; it
builds its run configurations from ``params``, calls :func:`run_configs`, and describes what ran
with :func:`data_record` / :func:`data_note`. Numbers in its Result come only from its own runs.

Claims on experiments (``[ID]`` tables of the answers file) are of three sorts:

- a number (an accuracy, a time ratio, a norm): :func:`number_verdict` compares it with the
  measured value within a stated band (the profile that ran is part of the evidence);
- a choice (the best learning rate, the best configuration): :func:`choice_verdict`;
- a trend or qualitative statement (``overfits = true``): :func:`trend_verdict`, through a named proxy.

>>> oscillation([1.0, 0.5, 0.75, 0.25])   # (0.5 + 0.25 + 0.5) / 3
0.4166666666666667
>>> min_epoch({"metrics": [{"epoch": 1, "val_loss": 2.0}, {"epoch": 2, "val_loss": 1.0},
...                        {"epoch": 3, "val_loss": 1.5}]})
(2, 1.0)
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Optional, Sequence

from problems.context import current, current_problem
from problems.errors import InputError
from problems.model import Figure, Series, Table, Verdict

# default tolerance bands for claimed numbers, by profile: a claim from the sheet's full run can
# only be compared loosely with a reduced (quick) run; the band used is always printed
ACCURACY_BAND = {"smoke": 0.25, "quick": 0.05, "full": 0.02}
METRIC_LABELS = {
    "train_loss": "train loss", "val_loss": "validation loss", "test_loss": "test loss",
    "train_accuracy": "train accuracy", "val_accuracy": "validation accuracy", "test_accuracy": "test accuracy",
    "train_rmse": "train RMSE", "val_rmse": "validation RMSE", "test_rmse": "test RMSE",
    "weight_norm": "weight norm", "lr": "learning rate", "distance_to_w_star": "distance to w*",
}


# -- running -----------------------------------------------------------------------------------

def run_configs(configs: dict[str, dict]) -> dict[str, dict]:
    """Run labelled configurations (cached) under the current :class:`~problems.context.RunContext`.

    Returns ``{label: run output}`` in the order given. Identical configurations run once; cached runs
    are read in this process (a rebuild starts no pool); of the rest, one configuration, or the smoke
    profile, runs in this process, more go to the context's executor (or a local process pool).
    """
    import json

    from numerics import runner

    ctx = current()
    keys, unique = {}, {}
    for label, cfg in configs.items():
        try:
            keys[label] = json.dumps(runner.resolve(cfg), sort_keys=True)
        except ValueError as exc:
            raise InputError(f"run {label!r}: {exc}") from None
        unique.setdefault(keys[label], cfg)
    common = dict(profile=ctx.profile, data_dir=ctx.data_dir, cache_dir=ctx.cache_dir)
    done = {} if ctx.force else {k: runner.cached(c, **common) for k, c in unique.items()}
    todo = {k: c for k, c in unique.items() if done.get(k) is None}
    if todo:
        cfgs = list(todo.values())
        if ctx.executor is None and (len(cfgs) == 1 or ctx.profile == "smoke"):
            outs = [runner.run(c, progress=ctx.progress, force=ctx.force, **common) for c in cfgs]
        else:
            outs = runner.run_many(cfgs, executor=ctx.executor, progress=ctx.progress, force=ctx.force, **common)
        done.update(zip(todo, outs))
    return {label: done[keys[label]] for label in configs}


# -- reading runs ------------------------------------------------------------------------------

def series(out: dict, key: str) -> tuple[list[int], list[Optional[float]]]:
    """Epochs and the values of ``key`` (epoch 0 = before training when it was measured)."""
    rows = ([out["initial"]] if out.get("initial") and out["initial"].get(key) is not None else []) + out["metrics"]
    return [r["epoch"] for r in rows], [_finite(r.get(key)) for r in rows]


def _finite(v) -> Optional[float]:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def final(out: dict, key: str) -> Optional[float]:
    return _finite(out.get("final", {}).get(key))


def _score(out: dict, key: str, higher: bool) -> float:
    v = final(out, key)
    if v is None or out.get("diverged"):
        return -math.inf                                  # diverged runs rank last
    return v if higher else -v


def best(outs: dict[str, dict], key: str = "val_accuracy", higher: bool = True) -> str:
    """The label whose final ``key`` is best (ties: the first); diverged runs rank last."""
    return max(outs, key=lambda label: _score(outs[label], key, higher))


def worst(outs: dict[str, dict], key: str = "val_accuracy", higher: bool = True) -> str:
    return min(outs, key=lambda label: _score(outs[label], key, higher))


def min_epoch(out: dict, key: str = "val_loss") -> tuple[Optional[int], Optional[float]]:
    """The epoch at which ``key`` is lowest, and its value."""
    pts = [(r[key], r["epoch"]) for r in out["metrics"] if _finite(r.get(key)) is not None]
    if not pts:
        return None, None
    value, epoch = min(pts)
    return epoch, value


def oscillation(values: Sequence[Optional[float]]) -> Optional[float]:
    """Mean absolute change between consecutive epochs (the sheet's "variance between epochs")."""
    v = [x for x in values if x is not None]
    if len(v) < 2:
        return None
    return sum(abs(b - a) for a, b in zip(v, v[1:])) / (len(v) - 1)


def sign_changes(values: Sequence[Optional[float]]) -> int:
    """How often the curve turns (up after down or down after up): 0 for a monotone curve."""
    v = [x for x in values if x is not None]
    d = [b - a for a, b in zip(v, v[1:]) if b != a]
    return sum(1 for a, b in zip(d, d[1:]) if (a > 0) != (b > 0))


def slope(values: Sequence[Optional[float]], last_fraction: float = 0.5) -> Optional[float]:
    """Least-squares slope per epoch over the last part of the curve."""
    v = [x for x in values if x is not None]
    v = v[-max(2, int(round(len(v) * last_fraction))):]
    if len(v) < 2:
        return None
    n = len(v)
    mx, my = (n - 1) / 2, sum(v) / n
    return sum((i - mx) * (y - my) for i, y in enumerate(v)) / sum((i - mx) ** 2 for i in range(n))


def overfitting(out: dict) -> dict:
    """The overfitting proxy: the validation loss bottoms out before the last epoch while the
    train loss keeps falling. Returns the numbers behind the decision."""
    epochs = [r["epoch"] for r in out["metrics"]]
    e_min, v_min = min_epoch(out, "val_loss")
    last = out["metrics"][-1] if out["metrics"] else {}
    tr_at_min = next((r.get("train_loss") for r in out["metrics"] if r["epoch"] == e_min), None)
    train_falls = (_finite(last.get("train_loss")) is not None and tr_at_min is not None
                   and last["train_loss"] < tr_at_min)
    overfits = bool(e_min is not None and epochs and e_min < epochs[-1] and train_falls
                    and _finite(last.get("val_loss")) is not None and last["val_loss"] > v_min)
    return {"overfits": overfits, "min_val_loss_epoch": e_min, "min_val_loss": v_min,
            "last_epoch": epochs[-1] if epochs else None, "final_val_loss": _finite(last.get("val_loss")),
            "final_train_loss": _finite(last.get("train_loss")), "gap": gap(out, "loss")}


def gap(out: dict, metric: str = "accuracy") -> Optional[float]:
    """Final train minus validation ``metric`` (accuracy: positive = overfit; loss: val - train)."""
    tr, va = final(out, f"train_{metric}"), final(out, f"val_{metric}")
    if tr is None or va is None:
        return None
    return tr - va if metric == "accuracy" else va - tr


def train_time(out: dict) -> float:
    return float(sum(r["wall_time"] for r in out["metrics"]))


def time_per_epoch(out: dict) -> Optional[float]:
    return train_time(out) / len(out["metrics"]) if out["metrics"] else None


# -- describing what ran -----------------------------------------------------------------------

_SHEET: dict = {}


def declare_sheet(**budget) -> None:
    """A solver that caps the sheet's budget itself (beyond the profile) declares the sheet's values here,
    e.g. ``declare_sheet(epochs=50, n_train=10_000)``, so that every data note states the reduction."""
    _SHEET[current_problem()] = budget


DATASET_WORDS = {"octmnist": "OCTMNIST", "mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10",
                 "intel": "Intel Image Classification", "ames": "Ames housing"}


def dataset_words(name: str) -> str:
    """An engine dataset name in words.

    >>> dataset_words("substitute:fashion-mnist[0..3]")
    'Fashion-MNIST classes 0-3'
    >>> dataset_words("substitute:fashion-mnist-rgb48[0..5]")
    'Fashion-MNIST classes 0-5 as 48x48 RGB'
    """
    import re

    base = name.removeprefix("substitute:")
    m = re.fullmatch(r"([a-z0-9-]+?)(?:-rgb(\d+))?(?:\[(\d+)\.\.(\d+)\])?", base)
    if not m:
        return base
    words = DATASET_WORDS.get(m.group(1), m.group(1).replace("-", " "))
    if m.group(3):
        words += f" classes {m.group(3)}-{m.group(4)}"
    if m.group(2):
        words += f" as {m.group(2)}x{m.group(2)} RGB"
    return words


def _dataset_phrase(ds: dict, evaluated=("train", "val", "test")) -> str:
    sizes = {k: v for k, v in ds.get("sizes", {}).items() if k in evaluated}
    size = ", ".join(f"{sizes[s]:,} {name}" for s, name in (("train", "train"), ("val", "validation"), ("test", "test"))
                     if sizes.get(s))
    if ds.get("substitute"):
        return (f"substitute {dataset_words(ds['name'])} in place of {ds['requested']} "
                f"({DATASET_WORDS.get(ds['requested'], ds['requested'])}; {ds.get('substitute_reason', 'absent')}); {size}")
    return f"{dataset_words(ds['name'])}; {size}"


def data_note(outs: dict[str, dict]) -> str:
    """One sentence: the dataset that ran, its sizes, the profile and budget, the seeds."""
    first = next(iter(outs.values()))
    _LAST_DATA[current_problem()] = first["dataset"]
    datasets = {}
    for o in outs.values():
        datasets.setdefault(o["dataset"]["fingerprint"], o["dataset"])
    evaluated = ("train", "val") + (("test",) if any(o["config"].get("eval_test", True) for o in outs.values()) else ())
    ds_text = "; ".join(_dataset_phrase(d, evaluated) for d in datasets.values())
    epochs = sorted({o["budget"]["epochs"] for o in outs.values()})
    sheet = _SHEET.get(current_problem(), {})
    asked = [sheet["epochs"]] if "epochs" in sheet else sorted({o["config"]["epochs"] for o in outs.values()})
    seeds = sorted({o["seed"] for o in outs.values()})
    ep = ", ".join(map(str, epochs))
    budget = f"{ep} epochs" + ("" if epochs == asked else f" (the sheet: {', '.join(map(str, asked))})")
    sizes = ", ".join(f"{v:,} {k.removeprefix('n_')}" for k, v in sheet.items() if k.startswith("n_"))
    if sizes:
        budget += f"; subsets capped by this problem (the sheet suggests {sizes})"
    runs = "1 run" if len(outs) == 1 else f"{len(outs)} runs"
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}"
    return f"Data: {ds_text}. Profile {first['profile']}: {budget}; {runs}, {seed_text}."


def data_record(outs: dict[str, dict]) -> dict:
    """What goes in ``Result.data``: a description for the page and the provenance of each run."""
    return {"description": data_note(outs).removeprefix("Data: "),
            "runs": {label: {"dataset": o["dataset"]["name"], "requested": o["dataset"]["requested"],
                             "substitute": o["dataset"]["substitute"], "fingerprint": o["dataset"]["fingerprint"],
                             "sizes": o["dataset"]["sizes"], "budget": o["budget"], "seed": o["seed"],
                             "cache_key": o["cache_key"]} for label, o in outs.items()}}


def random_state(outs: dict[str, dict]) -> Any:
    seeds = sorted({o["seed"] for o in outs.values()})
    return seeds[0] if len(seeds) == 1 else seeds


# -- figures and tables ------------------------------------------------------------------------

def curves(name: str, caption: str, outs: dict[str, dict], keys: Iterable[str],
           ylabel: str, xlabel: str = "epoch", labels: Optional[dict[str, str]] = None) -> Figure:
    """One line per (run, metric) against epoch; the caption ends with what data and budget ran."""
    keys = list(keys)
    styles = ["-", "--", ":", "-."]
    out_series = []
    for label, out in outs.items():
        for i, key in enumerate(keys):
            x, y = series(out, key)
            pts = [(a, b) for a, b in zip(x, y) if b is not None]
            if not pts:
                continue
            name_ = (labels or {}).get(label, label)
            text = name_ if len(keys) == 1 else (f"{name_}: {METRIC_LABELS.get(key, key)}" if len(outs) > 1
                                                 else METRIC_LABELS.get(key, key))
            out_series.append(Series(label=text, x=[a for a, _ in pts], y=[b for _, b in pts],
                                     style=styles[i % len(styles)]))
    return Figure(name=name, caption=f"{caption} {data_note(outs)}", xlabel=xlabel,
                  ylabel=ylabel, series=out_series)


def fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "--"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e7):
            return f"{v:.{digits - 1}e}"
        if abs(v) >= 1000:
            return f"{v:,.0f}"                        # 19,440 rather than 1.944e+04
        if abs(v) < 1:
            return f"{v:.{digits}f}"                  # 0.8800 beside 0.9238: one precision per column
        return f"{v:.{digits}g}"
    return str(v)


def results_table(caption: str, outs: dict[str, dict], extra: Optional[dict[str, dict[str, Any]]] = None,
                  metrics: Sequence[str] = ("train_accuracy", "val_accuracy", "test_accuracy", "train_loss",
                                            "val_loss")) -> Table:
    """Final metrics of each run, its training time, updates per epoch and divergence;
    ``extra`` adds columns ``{column: {label: value}}``."""
    metrics = [m for m in metrics if any(final(o, m) is not None for o in outs.values())]
    extra = extra or {}
    columns = ["run"] + [METRIC_LABELS.get(m, m) for m in metrics] + ["train time (s)", "updates per epoch"] \
        + list(extra) + ["stopped by the runner"]
    rows = []
    for label, o in outs.items():
        upd = o["metrics"][-1]["updates"] if o["metrics"] else None
        div = f"epoch {o['diverged_epoch']}" if o.get("diverged") else "no"
        rows.append([label] + [fmt(final(o, m)) for m in metrics] + [fmt(train_time(o), 3), fmt(upd)]
                    + [fmt(extra[c].get(label)) for c in extra] + [div])
    return Table(caption=caption, columns=columns, rows=rows)


# -- claims ------------------------------------------------------------------------------------

def check_claim_keys(problem_id: str, claims: Optional[dict], allowed: Iterable[str]) -> dict:
    """The claims table, with every key known; an unknown key is a one-line InputError."""
    claims = dict(claims or {})
    allowed = list(allowed)
    for key in claims:
        if key not in allowed:
            raise InputError(f"[{problem_id}] unknown claim key {key!r}: expected one of {', '.join(allowed)}")
    return claims


def claim_number(problem_id: str, claims: dict, key: str) -> Optional[float]:
    if key not in claims:
        return None
    v = claims[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"[{problem_id}] {key} = {v!r}: expected a number")
    if not math.isfinite(v):
        raise InputError(f"[{problem_id}] {key} = {v!r}: expected a finite number")
    return float(v)


def claim_bool(problem_id: str, claims: dict, key: str) -> Optional[bool]:
    if key not in claims:
        return None
    v = claims[key]
    if not isinstance(v, bool):
        raise InputError(f"[{problem_id}] {key} = {v!r}: expected true or false")
    return v


def band_for(what: str, profile: Optional[str] = None) -> float:
    """The default band for a claimed accuracy under ``profile`` (see ACCURACY_BAND)."""
    return ACCURACY_BAND[profile or current().profile]


def accuracy_claim(problem_id: str, claims: dict, key: str, measured: Optional[float], what: str,
                   label: Optional[str] = None) -> Optional[Verdict]:
    """The verdict on a claimed accuracy ``claims[key]`` (None when not claimed), with the claim's own
    ``tolerance`` or the profile's band."""
    claimed = claim_number(problem_id, claims, key)
    if claimed is None:
        return None
    band = claim_number(problem_id, claims, "tolerance")
    return number_verdict(f"{label or key} = {claimed:g}", claimed, measured,
                          band_for("accuracy") if band is None else band, what)


_LAST_DATA: dict = {}


def _data_caveat() -> str:
    """', on the substitute X in place of Y' when the runs behind the last data note used a substitute."""
    ds = _LAST_DATA.get(current_problem())
    if not ds or not ds.get("substitute"):
        return ""
    return (f", measured on the substitute {dataset_words(ds['name'])} in place of {ds['requested']}: a number from "
            f"{ds['requested']} itself is not comparable")


def number_claims(problem_id: str, claims: dict, measured: dict[str, Optional[float]]) -> list[Verdict]:
    """Verdicts on claimed final metrics ``{claim key: measured value}``, each within the claim's own
    ``tolerance`` or the profile's band."""
    return [v for key, value in measured.items()
            if (v := accuracy_claim(problem_id, claims, key, value, METRIC_LABELS.get(key, key.replace("_", " "))))]


def number_verdict(claim_text: str, claimed: float, measured: Optional[float], band: float,
                   what: str, relative: bool = False) -> Verdict:
    """Pass when |claimed - measured| <= band (or <= band * |measured| when ``relative``)."""
    prof = current().profile
    if measured is None:
        return Verdict(claim=claim_text, passed=None,
                       evidence=f"could not be checked: {what} was not measured (the run diverged or has no such metric)")
    tol = band * abs(measured) if relative else band
    ok = abs(claimed - measured) <= tol
    band_text = f"{band:.0%} of the measured value" if relative else f"{band:g}"
    return Verdict(claim=claim_text, passed=ok,
                   evidence=(f"measured {what} = {fmt(measured)} (profile {prof}{_data_caveat()}); claimed {fmt(claimed)}; "
                             f"difference {fmt(claimed - measured, 3)}, band +/- {band_text}: "
                             + ("within the band." if ok else "outside the band.")))


def choice_verdict(claim_text: str, claimed: Any, measured: Any, ranking: str) -> Verdict:
    ok = _same(claimed, measured)
    return Verdict(claim=claim_text, passed=ok,
                   evidence=(f"measured best: {fmt(measured)}; claimed {fmt(claimed)}. {ranking}"))


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a).strip().lower() == str(b).strip().lower()


def trend_verdict(claim_text: str, claimed: bool, measured: Optional[bool], proxy: str) -> Verdict:
    """A qualitative claim decided through its measurable proxy, described in ``proxy``."""
    if measured is None:
        return Verdict(claim=claim_text, passed=None, evidence=f"undecided: {proxy}")
    ok = claimed == measured
    return Verdict(claim=claim_text, passed=ok,
                   evidence=f"measured: {'yes' if measured else 'no'} ({proxy}); claimed {'yes' if claimed else 'no'}.")
