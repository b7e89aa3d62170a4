"""Profiles: how much of a configuration's data and epochs actually run.

- ``smoke``: tests; seconds per run (tiny subsets, at most 2 epochs).
- ``quick``: the sheet's hyper-parameters on a stated budget of data and epochs, sized so that every
  experiment of all five sets finishes in about 15 minutes on 2 cores.
- ``full``: exactly the sheet (no caps).

A budget caps ``n_train``/``n_val``/``n_test`` (random subsets, seeded by the run's seed) and
``epochs``; the budget that ran is recorded in the run's output.
"""
from __future__ import annotations

CAPS = {
    "smoke": {"n_train": 256, "n_val": 128, "n_test": 128, "epochs": 2},
    "quick": {"n_train": 5000, "n_val": 1000, "n_test": 2000, "epochs": 20},
    "full": {"n_train": None, "n_val": None, "n_test": None, "epochs": None},
}
# per-kind caps that replace the profile's (the AlexNet costs ~4 ms per training image on 2 cores)
KIND_CAPS = {
    ("smoke", "alexnet"): {"n_train": 32, "n_val": 16, "n_test": 16, "epochs": 1},
    ("quick", "alexnet"): {"n_train": 1000, "n_val": 500, "n_test": 500, "epochs": 3},
}
# per-example PyTorch loops cost ~0.3-0.4 ms a step on 2 cores (ist21.q4 runs a dozen of them)
SMALL_BATCH_TORCH = ("logreg_torch", "ffn_torch")
QUICK_PER_EXAMPLE_TORCH = {"n_train": 2000}
PROFILES = tuple(CAPS)


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def budget(profile: str, config: dict, sizes: dict[str, int]) -> dict:
    """The budget that runs: ``{"n": {split: n or None}, "epochs", "caps", "profile"}``.

    ``sizes`` are the dataset's split sizes; ``config`` may ask for subsets itself (``n_train`` ...,
    ``train_fraction``), and the profile's caps apply on top.
    """
    if profile not in CAPS:
        raise ValueError(f"profile {profile!r}: expected one of {PROFILES}")
    caps = KIND_CAPS.get((profile, config["kind"]), CAPS[profile])
    if profile == "quick" and config["kind"] in SMALL_BATCH_TORCH and config.get("batch_size", 64) <= 2:
        caps = {**caps, **QUICK_PER_EXAMPLE_TORCH}
    asked = {s: config.get(f"n_{s}") for s in ("train", "val", "test")}
    if "train_fraction" in config:
        asked["train"] = _min(asked["train"], max(1, round(config["train_fraction"] * sizes["train"])))
    n = {s: _min(_min(asked[s], caps[f"n_{s}"]), sizes[s]) for s in asked}
    return {"profile": profile, "n": n, "epochs": _min(config["epochs"], caps["epochs"]), "caps": caps}
