"""Turn a string table (from :func:`formats.read_csv_table`) into a float feature matrix.

Rules (documented in docs/engine.md, "Ames"):
- a column is numeric when every non-missing cell parses as a float; missing cells
  (``""``, ``NA``, ``NaN``) are filled with the training-split mean of the column;
- numeric columns are standardised with training-split mean and standard deviation
  (a constant column is left centred, divided by 1);
- any other column is categorical and is one-hot encoded over its sorted levels
  (a missing cell is its own level ``"NA"``); one-hot columns stay 0/1.
"""
from __future__ import annotations

import numpy as np

MISSING = {"", "NA", "NaN", "nan", "None"}


def _as_float(cell: str) -> float | None:
    if cell.strip() in MISSING:
        return np.nan
    try:
        return float(cell)
    except ValueError:
        return None


def encode_table(names: list[str], rows: list[list[str]], n_train: int) -> tuple[np.ndarray, list[str]]:
    """Encode ``rows`` (n, len(names)) of strings; statistics come from the first ``n_train`` rows.

    Returns ``(X float32 (n, d), feature names)`` where one-hot names read ``column=level``.
    """
    columns, out_names = [], []
    for j, name in enumerate(names):
        cells = [r[j] for r in rows]
        values = [_as_float(c) for c in cells]
        if all(v is not None for v in values):
            x = np.array(values, np.float64)                  # (n,)
            train = x[:n_train]
            mean = np.nanmean(train) if np.isfinite(train).any() else 0.0
            x = np.where(np.isnan(x), mean, x)
            std = x[:n_train].std()
            columns.append((x - mean) / (std if std > 0 else 1.0))
            out_names.append(name)
        else:
            levels = sorted({c.strip() if c.strip() not in MISSING else "NA" for c in cells})
            for level in levels:
                columns.append(np.array([(c.strip() if c.strip() not in MISSING else "NA") == level
                                         for c in cells], np.float64))
                out_names.append(f"{name}={level}")
    return np.stack(columns, axis=1).astype(np.float32), out_names
