"""The sweep table: the headline numbers of every point's results.json as tidy rows, written as CSV,
read back, and looked up (one quantity at one point)."""
from __future__ import annotations

import math
from pathlib import Path

from .spec import MAIN, SweepError


def _row(quantity, value, error=None, T=None, bin=None):
    return {"quantity": quantity, "T": T, "bin": bin, "value": value, "error": error}


def _interval_rows(quantity, value, low, high):
    if value is None:
        return []
    half = None if low is None or high is None else 0.5 * (high - low)
    return [_row(quantity, value, half), _row(f"{quantity}_low", low), _row(f"{quantity}_high", high)]


def results_rows(results):
    """The headline numbers of one ``results.json`` as tidy rows (quantity, T, bin, value, error).

    * ``fraction_above_peak``, ``baseline_above_peak``, ``fraction_above_median``: value and bootstrap error at
      the lowest temperature (column T);
    * ``onset_temperature`` (the fit Fig. 5 shows), ``onset_temperature_all``, ``onset_temperature_selective``:
      the crossing, error = half the width of its bootstrap interval, whose ends are the ``_low`` and ``_high``
      rows; ``onset_fit_selective``: 1 when the shown fit is the selective one, else 0;
    * ``tau_alpha``, ``p_c``: per temperature;
    * ``softness_bin_center`` (error: half the bin width), ``delta_E``, ``ln_P0`` (with errors), ``chi2_dof``:
      per softness bin (column bin: 0 is the bin of lowest S, in the order of ``softness_bins``);
    * ``barrier_slope_S``, ``barrier_slope_inv_S`` (slope of Delta E against S and 1/S, with errors),
      ``barrier_r2_S``, ``barrier_r2_inv_S``.

    A number results.json does not have (None, e.g. a selective fit that was impossible) gives no row.
    """
    rows, T0 = [], results["fraction_above_peak_T"]
    for q in ("fraction_above_peak", "baseline_above_peak", "fraction_above_median"):
        rows.append(_row(q, results[q]["value"], results[q]["error"], T=T0))
    on = results["onset_temperature"]
    rows += _interval_rows("onset_temperature", on["value"], on["low"], on["high"])
    rows.append(_row("onset_fit_selective", 0.0 if on["fit"] == "all temperatures" else 1.0))
    for fit in ("all", "selective"):
        d = results.get(f"onset_temperature_{fit}") or {}
        rows += _interval_rows(f"onset_temperature_{fit}", d.get("T"), d.get("low"), d.get("high"))
    for q in ("tau_alpha", "p_c"):
        rows += [_row(q, v, T=float(k)) for k, v in sorted(results[q].items(), key=lambda kv: float(kv[0]))]
    e = results["softness_bins"]
    rows += [_row("softness_bin_center", 0.5 * (e[k] + e[k + 1]), 0.5 * (e[k + 1] - e[k]), bin=k)
             for k in range(len(e) - 1)]
    for q, err in (("delta_E", "delta_E_error"), ("ln_P0", "ln_P0_error"), ("chi2_dof", None)):
        rows += [_row(q, v, None if err is None else results[err][k], bin=k) for k, v in enumerate(results[q])]
    for key, q in (("S", "S"), ("inv_S", "inv_S")):
        tr = results["barrier_trend"][key]
        rows += [_row(f"barrier_slope_{q}", tr["slope"], tr["slope_err"]), _row(f"barrier_r2_{q}", tr["r2"])]
    return [r for r in rows if r["value"] is not None]


COLUMNS_HEAD, COLUMNS_TAIL = ("sweep", "point"), ("quantity", "T", "bin", "value", "error")


def collate(sweep_name, parameters, points):
    """One tidy table of the headline numbers of every point.

    Parameters
    ----------
    sweep_name : str
    parameters : list of str
        The swept (and fixed) parameters: one column each.
    points : list of (point name, {parameter: value}, results dict)

    Returns
    -------
    pandas.DataFrame with columns sweep, point, <parameters>, quantity, T, bin, value, error.
    """
    import pandas as pd

    rows = []
    for name, values, results in points:
        head = {"sweep": sweep_name, "point": name, **{k: values.get(k) for k in parameters}}
        rows += [{**head, **r} for r in results_rows(results)]
    cols = [*COLUMNS_HEAD, *parameters, *COLUMNS_TAIL]
    df = pd.DataFrame(rows, columns=cols)
    df["bin"] = df["bin"].astype("Int64")
    return df


def write_table(df, path):
    """Write the table as CSV, atomically."""
    from ...io.store import atomic_write_bytes

    atomic_write_bytes(path, df.to_csv(index=False).encode())
    return Path(path)


def read_table(path):
    """A sweep table written by :func:`write_table`."""
    import pandas as pd

    df = pd.read_csv(path)
    df["bin"] = df["bin"].astype("Int64")
    return df


def parameter_columns(df):
    """The parameter columns of a sweep table (between ``point`` and ``quantity``)."""
    cols = list(df.columns)
    return cols[cols.index("point") + 1: cols.index("quantity")]


def _sel(df, quantity, point=None):
    d = df[df["quantity"] == quantity]
    return d if point is None else d[d["point"] == point]


def _number(v):
    return None if v is None or math.isnan(float(v)) else float(v)


def _one(df, quantity, point):
    """(value, error) of a quantity without T or bin at one point; None where absent."""
    d = _sel(df, quantity, point)
    return (_number(d["value"].iloc[0]), _number(d["error"].iloc[0])) if len(d) else (None, None)


def _points(df):
    return [p for p in dict.fromkeys(df["point"]) if p != MAIN]


def read_tables(layout, names=()):
    """``{sweep: table}`` of ``<data>/<name>/sweeps/*.csv`` (only ``names`` when given)."""
    folder = Path(layout.data) / "sweeps"
    paths = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if names:
        missing = [n for n in names if not (folder / f"{n}.csv").exists()]
        if missing:
            raise SweepError(f"no sweep table {', '.join(missing)} in {folder} (it has "
                             f"{[p.stem for p in paths]}): run make sweep SWEEP=sweeps/<name>.toml first")
        paths = [folder / f"{n}.csv" for n in names]
    return {p.stem: read_table(p) for p in paths}


def inventory(layout, tables):
    """A sentence on the tables found (or how to make one)."""
    folder = Path(layout.data) / "sweeps"
    if not tables:
        return (f"no sweep table in {folder}: `make sweep SWEEP=sweeps/window.toml` (PRESET=..., DATASET=...) "
                "writes one")
    lines = [f"{len(tables)} sweep table(s) in {folder}:"]
    for k, df in tables.items():
        lines.append(f"  {k}: {len(_points(df))} point(s) with results, parameters "
                     f"{', '.join(parameter_columns(df))}" + ("" if MAIN in set(df["point"]) else
                                                               "; no main build results to compare with"))
        lines += [f"    {name} FAILED: {why}" for name, why in failed_points(folder / f"{k}.json").items()]
    return "\n".join(lines)


def failed_points(sidecar):
    """``{point: status}`` of the points the last run of a sweep could not finish (from ``<sweep>.json``)."""
    from ...io.store import read_json

    if not Path(sidecar).exists():
        return {}
    return {p["point"]: p["status"].removeprefix("failed: ") for p in read_json(sidecar).get("points", [])
            if str(p.get("status", "")).startswith("failed")}
