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
    """The label whose final ``key`` is best (ties: the first); diverged runs rank last.

    A strict ranking, for picking curves to draw; a claim about the best run is decided with
    :func:`best_set`, which knows that two accuracies close together are tied within noise."""
    return max(outs, key=lambda label: _score(outs[label], key, higher))


def worst(outs: dict[str, dict], key: str = "val_accuracy", higher: bool = True) -> str:
    return min(outs, key=lambda label: _score(outs[label], key, higher))


def is_accuracy(key: str) -> bool:
    """Whether final ``key`` is a fraction of correct predictions (a binomial proportion)."""
    return key.endswith("accuracy")


def evaluated_size(out: dict, key: str) -> Optional[int]:
    """How many examples final ``key`` was measured on: the size of its split in the data that ran
    (``out["dataset"]["sizes"]`` is recorded after the profile's subsampling).

    >>> evaluated_size({"dataset": {"sizes": {"train": 256, "val": 128, "test": 64}}}, "val_accuracy")
    128
    """
    n = out.get("dataset", {}).get("sizes", {}).get(key.split("_")[0])
    return int(n) if n else None


def noise_margin(p1: float, n1: int, p2: float, n2: int) -> float:
    """Two binomial standard errors of the difference of two accuracies, ``p1`` on ``n1`` and ``p2`` on
    ``n2`` examples: ``2 sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)``.

    It treats the two as independent samples. Runs scored on the same images are positively
    correlated, which makes the true noise of their difference smaller: the margin errs towards a tie,
    i.e. towards not failing a student over a difference the data cannot resolve.

    >>> round(noise_margin(0.937, 1000, 0.932, 1000), 4)
    0.0221
    """
    return 2 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)


def _top_set(outs: dict[str, dict], key: str, higher: bool, pick_worst: bool) -> list[str]:
    top = (worst if pick_worst else best)(outs, key, higher)
    if outs[top].get("diverged"):          # diverged runs rank alike (last): a diverged top ties with the others
        return [top] + [label for label, o in outs.items() if label != top and o.get("diverged")]
    p1, n1 = final(outs[top], key), evaluated_size(outs[top], key)
    if not is_accuracy(key) or p1 is None or n1 is None:
        return [top]
    tied = []
    for label, o in outs.items():
        p2, n2 = final(o, key), evaluated_size(o, key)
        if label == top or p2 is None or n2 is None or o.get("diverged"):
            continue
        if abs(p1 - p2) <= noise_margin(p1, n1, p2, n2):
            tied.append(label)
    return [top] + tied


def best_set(outs: dict[str, dict], key: str = "val_accuracy", higher: bool = True) -> list[str]:
    """The label of the best run (as :func:`best`) followed by every label tied with it within noise.

    For an accuracy measured on n examples two runs are tied when their difference is at most
    :func:`noise_margin` (two binomial standard errors of the difference; n from
    :func:`evaluated_size`). A diverged run is never tied with a finished one; when the top itself
    diverged (the worst run, or every run), all diverged runs are tied. For other metrics (losses, RMSE, norms)
    there is no such model -- their noise depends on the spread of per-example losses, which the runs
    do not record -- so the ranking stays strict and the set holds the best label alone.

    >>> runs = {lr: {"dataset": {"sizes": {"val": 1000}}, "final": {"val_accuracy": acc}}
    ...         for lr, acc in (("0.1", 0.937), ("0.01", 0.932), ("0.001", 0.80))}
    >>> best_set(runs)
    ['0.1', '0.01']
    >>> best_set({k: {**o, "final": {"val_loss": 1 - o["final"]["val_accuracy"]}} for k, o in runs.items()},
    ...          "val_loss", higher=False)
    ['0.1']
    """
    return _top_set(outs, key, higher, pick_worst=False)


def worst_set(outs: dict[str, dict], key: str = "val_accuracy", higher: bool = True) -> list[str]:
    """The label of the worst run (as :func:`worst`; a diverged run is worst) and every label tied with it
    within noise, by the same rule as :func:`best_set`."""
    return _top_set(outs, key, higher, pick_worst=True)


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
    _LAST_DATA[current_problem()] = runs_data(outs)
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


def runs_data(outs: Iterable[dict] | dict[str, dict]) -> Optional[dict]:
    """The dataset provenance verdicts on these runs stand on: a substitute when any run used one (a
    number from it is not comparable), else the first run's; None for no runs."""
    runs = list(outs.values()) if isinstance(outs, dict) else list(outs)
    return next((o["dataset"] for o in runs if o["dataset"].get("substitute")), runs[0]["dataset"] if runs else None)


def _substitute(data: Optional[dict] = None) -> Optional[dict]:
    """The dataset provenance behind a verdict when it is a substitute, else None: ``data`` itself, or
    the data of this problem's last :func:`data_note` (a substitute wins when runs used several)."""
    ds = data if data is not None else _LAST_DATA.get(current_problem())
    return ds if ds and ds.get("substitute") else None


def substitute_phrase(ds: dict) -> str:
    """'the substitute Fashion-MNIST classes 0-3 in place of OCTMNIST'."""
    return (f"the substitute {dataset_words(ds['name'])} in place of "
            f"{DATASET_WORDS.get(ds['requested'], ds['requested'])}")


def _decided_on(data: Optional[dict] = None) -> str:
    ds = _substitute(data)
    return f" Decided on {substitute_phrase(ds)}." if ds else ""


def number_claims(problem_id: str, claims: dict, measured: dict[str, Optional[float]]) -> list[Verdict]:
    """Verdicts on claimed final metrics ``{claim key: measured value}``, each within the claim's own
    ``tolerance`` or the profile's band."""
    return [v for key, value in measured.items()
            if (v := accuracy_claim(problem_id, claims, key, value, METRIC_LABELS.get(key, key.replace("_", " "))))]


def number_verdict(claim_text: str, claimed: float, measured: Optional[float], band: float,
                   what: str, relative: bool = False, data: Optional[dict] = None) -> Verdict:
    """Pass when |claimed - measured| <= band (or <= band * |measured| when ``relative``).

    Undecided (``passed=None``) when ``what`` was not measured, and when it was measured on a substitute
    dataset (``data``, a run's ``out["dataset"]``; by default the data of this problem's last
    :func:`data_note`): a number of the sheet's dataset is not comparable with one of another dataset.
    The evidence still shows the measured value and what the verdict would have been.
    """
    prof = current().profile
    if measured is None:
        return Verdict(claim=claim_text, passed=None,
                       evidence=f"could not be checked: {what} was not measured (the run diverged or has no such metric)")
    tol = band * abs(measured) if relative else band
    ok = abs(claimed - measured) <= tol
    band_text = f"{band:.0%} of the measured value" if relative else f"{band:g}"
    diff = fmt(claimed - measured, 3)
    ds = _substitute(data)
    if ds:
        return Verdict(claim=claim_text, passed=None,
                       evidence=(f"measured {what} = {fmt(measured)} on {substitute_phrase(ds)} (profile {prof}); "
                                 f"your {claimed:g} is a number of "
                                 f"{DATASET_WORDS.get(ds['requested'], ds['requested'])} and not comparable, so no "
                                 f"verdict; the difference {diff} would have been "
                                 + ("within" if ok else "outside") + f" the band +/- {band_text}."))
    return Verdict(claim=claim_text, passed=ok,
                   evidence=(f"measured {what} = {fmt(measured)} (profile {prof}); claimed {fmt(claimed)}; "
                             f"difference {diff}, band +/- {band_text}: "
                             + ("within the band." if ok else "outside the band.")))


def choice_verdict(claim_text: str, claimed: Any, measured: Any, ranking: str, tied: Sequence[Any] = (),
                   noise: str = "", data: Optional[dict] = None) -> Verdict:
    """Pass when ``claimed`` is the measured best or one of ``tied`` (the values tied with it within
    noise, see :func:`best_set`); ``noise`` explains the tie or the margin. A choice is a property of
    the method that usually carries over to another dataset: on a substitute it stays decided, and the
    evidence names the substitute."""
    ok = any(_same(claimed, v) for v in (measured, *tied))
    head = f"measured best: {_name(measured)}"
    if tied and not noise:
        head += " (tied with " + ", ".join(_name(t) for t in tied) + ")"
    return Verdict(claim=claim_text, passed=ok,
                   evidence=(f"{head}; claimed {_name(claimed)}. " + (f"{noise} " if noise else "") + ranking
                             + _decided_on(data)))


SPLIT_WORDS = {"train": "train", "val": "validation", "test": "test"}


def _name(v: Any) -> str:
    """A compared value as a claim names it: 0.01 rather than 0.0100."""
    return f"{v:g}" if isinstance(v, float) else fmt(v)


def _noise_text(outs: dict[str, dict], key: str, top: str, others: Sequence[str], names: dict[str, Any],
                tied: bool) -> str:
    """'0.1 and 0.01 are tied within noise: 0.937 vs 0.932 on 1,000 validation images, 2 SE = 0.022.'"""
    p1, parts = final(outs[top], key), []
    for label in others:
        p2 = final(outs[label], key)
        n1, n2 = evaluated_size(outs[top], key), evaluated_size(outs[label], key)
        if p1 is None or p2 is None or n1 is None or n2 is None:
            continue
        unit = "images" if outs[top]["dataset"].get("image_shape") else "examples"
        n = f"{n1:,}" if n1 == n2 else f"{n1:,} and {n2:,}"
        margin = noise_margin(p1, n1, p2, n2)
        on = f"on {n} {SPLIT_WORDS.get(key.split('_')[0], key.split('_')[0])} {unit}, 2 SE = {fmt(margin, 3)}"
        if tied:
            parts.append(f"{_name(names[top])} and {_name(names[label])} are tied within noise: {fmt(p1, 3)} vs {fmt(p2, 3)} {on}.")
        else:
            parts.append(f"{_name(names[label])} has {fmt(p2, 3)} against {fmt(p1, 3)} for {_name(names[top])}: a margin of "
                         f"{fmt(abs(p1 - p2), 3)}, beyond noise ({on}).")
    return " ".join(parts)


def choice_among(claim_text: str, claimed: Any, outs: dict[str, dict], ranking: str, key: str = "val_accuracy",
                 higher: bool = True, names: Optional[dict[str, Any]] = None, pick_worst: bool = False) -> Verdict:
    """The verdict on "``claimed`` is the best (``pick_worst``: the worst) run by final ``key``".

    ``names`` maps run labels to the values a claim names (default: the labels). For an accuracy the
    claim passes when it names any run tied with the best within noise (:func:`best_set`), and the
    evidence gives the two accuracies, the number of examples and the margin; other metrics rank
    strictly (no noise model, see :func:`best_set`). On a substitute dataset the verdict stays decided
    and says so.
    """
    names = names or {label: label for label in outs}
    labels = (worst_set if pick_worst else best_set)(outs, key, higher)
    top, tied = labels[0], labels[1:]
    claimed_label = next((label for label, v in names.items() if _same(claimed, v)), None)
    if claimed_label in tied:
        noise = _noise_text(outs, key, top, [claimed_label], names, tied=True)
    elif claimed_label is not None and claimed_label != top and is_accuracy(key):
        noise = " ".join(filter(None, [_noise_text(outs, key, top, tied, names, tied=True),
                                       _noise_text(outs, key, top, [claimed_label], names, tied=False)]))
    else:
        noise = _noise_text(outs, key, top, tied, names, tied=True)
    verdict = choice_verdict(claim_text, claimed, names[top], ranking, [names[t] for t in tied], noise,
                             runs_data(outs) or {})
    if pick_worst:
        verdict.evidence = verdict.evidence.replace("measured best:", "measured worst:", 1)
    return verdict


def as_number(v: Any) -> Any:
    """'0.01' -> 0.01; anything else unchanged."""
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def _same(a, b) -> bool:
    """Whether claimed ``a`` names measured ``b``: numbers within rounding, text case-blind, and a claim's
    text read as a number too (``"0.01"`` names 0.01)."""
    return _equal(a, b) or _equal(as_number(a), b)


def _equal(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a).strip().lower() == str(b).strip().lower()


def trend_verdict(claim_text: str, claimed: bool, measured: Optional[bool], proxy: str,
                  data: Optional[dict] = None) -> Verdict:
    """A qualitative claim decided through its measurable proxy, described in ``proxy``. Like a choice,
    a trend (does it overfit, does it diverge) is a property of the method: on a substitute dataset it
    stays decided and the evidence names the substitute."""
    if measured is None:
        return Verdict(claim=claim_text, passed=None, evidence=f"undecided: {proxy}")
    ok = claimed == measured
    return Verdict(claim=claim_text, passed=ok,
                   evidence=(f"measured: {'yes' if measured else 'no'} ({proxy}); claimed {'yes' if claimed else 'no'}."
                             + _decided_on(data)))
