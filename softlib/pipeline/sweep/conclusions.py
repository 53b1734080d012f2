"""Reading a sweep table: does each of the paper's conclusions hold at every point, and the headline
numbers of each point as text."""
from __future__ import annotations

import math

from .spec import MAIN
from .table import _one, _points, _sel, parameter_columns


def onset_conclusion(df):
    """Does the onset temperature's interval contain the main build's value at every point?

    Compares the crossing of the fit the main build shows (all temperatures or the selective subset).
    Returns a dict: ``claim``, ``survives`` (True, False, or None without a main build or points), ``hold``,
    ``fail`` (point: why), ``sentence``.
    """
    pts = _points(df)
    sel, _ = _one(df, "onset_fit_selective", MAIN)
    fit = "selective" if sel == 1.0 else "all"
    label = "selective temperatures" if fit == "selective" else "all temperatures"
    q = f"onset_temperature_{fit}"
    ref, _ = _one(df, q, MAIN)
    claim = f"onset temperature (fit over {label})"
    if ref is None or not pts:
        return _no_data(claim, ref is None, pts)
    hold, fail = [], {}
    for p in pts:
        v, _ = _one(df, q, p)
        lo, hi = _one(df, f"{q}_low", p)[0], _one(df, f"{q}_high", p)[0]
        if v is None or lo is None or hi is None:
            fail[p] = "no crossing"
        elif lo <= ref <= hi:
            hold.append(p)
        else:
            fail[p] = f"{v:.3g} [{lo:.3g}, {hi:.3g}]"
    head = f"The {claim}: the bootstrap interval contains the main build's T* = {ref:.3g}"
    return _verdict(claim, pts, hold, fail, head)


def fraction_conclusion(df):
    """Does the fraction of rearranging particles softer than the peak of P(S) stay above its baseline?

    'Clearly' above: by more than twice the combined standard error. Returns a dict as
    :func:`onset_conclusion`.
    """
    pts = _points(df)
    claim = "fraction of rearranging particles softer than the peak of P(S)"
    if not pts:
        return _no_data(claim, False, pts)
    hold, fail, clear = [], {}, []
    for p in pts:
        (v, e), (b, eb) = _one(df, "fraction_above_peak", p), _one(df, "baseline_above_peak", p)
        if v is None or b is None:
            fail[p] = "not measured"
            continue
        if v > b:
            hold.append(p)
        else:
            fail[p] = f"{v:.3g} <= baseline {b:.3g}"
        if v - b > 2 * math.hypot(e or 0.0, eb or 0.0):
            clear.append(p)
    T = _sel(df, "fraction_above_peak")["T"].dropna()
    at = f" (T = {T.iloc[0]:.2f})" if len(T) else ""
    head = f"The {claim}{at} is above its baseline (all particle-frames softer than the peak)"
    out = _verdict(claim, pts, hold, fail, head)
    out["clear"] = clear
    out["sentence"] += " " + _margin(clear, pts, "the margin exceeds two combined standard errors",
                                     "At no point is the margin above two combined standard errors: it is "
                                     "within the noise.")
    return out


def barrier_conclusion(df):
    """Does the slope of the barrier Delta E against S keep the main build's sign at every point?

    Returns a dict as :func:`onset_conclusion`, with ``sign`` (+1 or -1) and ``clear`` (points where
    |slope| exceeds twice its error).
    """
    pts = _points(df)
    ref, _ = _one(df, "barrier_slope_S", MAIN)
    claim = "trend of the barrier Delta E with the softness S"
    if ref is None or ref == 0 or not pts:
        return _no_data(claim, ref is None or ref == 0, pts)
    sign = 1 if ref > 0 else -1
    hold, fail, clear = [], {}, []
    for p in pts:
        v, e = _one(df, "barrier_slope_S", p)
        if v is None:
            fail[p] = "no fit"
            continue
        if v * sign > 0:
            hold.append(p)
        else:
            fail[p] = f"slope {v:.3g}"
        if e is not None and abs(v) > 2 * e:
            clear.append(p)
    word = "falls" if sign < 0 else "rises"
    head = f"The barrier {word} with S (main build: slope {ref:.3g})"
    out = _verdict(claim, pts, hold, fail, head)
    out.update(sign=sign, clear=clear)
    out["sentence"] += " " + _margin(clear, pts, "the slope exceeds twice its error",
                                     "At no point does the slope exceed twice its error: its sign is not resolved.")
    return out


def _margin(clear, pts, what, none):
    """A sentence on the points where a margin is significant: all of them, which ones, or ``none``."""
    if not clear:
        return none
    where = _at_all(len(pts)) if len(clear) == len(pts) else f"at {len(clear)} of {len(pts)} points ({', '.join(clear)})"
    return f"{what[0].upper()}{what[1:]} {where}."


def _at_all(n):
    return "at the only point" if n == 1 else f"at all {n} points"


def _no_data(claim, no_main, pts):
    why = ("the main build has no value to compare with" if no_main and pts else
           "no point of the sweep has results yet")
    return {"claim": claim, "survives": None, "hold": [], "fail": {}, "sentence": f"The {claim}: {why}."}


def _verdict(claim, pts, hold, fail, head):
    n = len(pts)
    if not fail:
        text = f"{head} {_at_all(n)}: this conclusion survives the sweep."
    else:
        which = "; ".join(f"{p}: {why}" for p, why in fail.items())
        text = (f"{head} at {len(hold)} of {n} points, not at {which}: this conclusion does not survive "
                "the sweep.")
    return {"claim": claim, "survives": not fail, "hold": hold, "fail": fail, "sentence": text}


def conclusions(df):
    """The three checks (:func:`onset_conclusion`, :func:`fraction_conclusion`, :func:`barrier_conclusion`)."""
    return [onset_conclusion(df), fraction_conclusion(df), barrier_conclusion(df)]


def headline_table(df):
    """One line per point: the swept values and the headline numbers as text ('0.51 +- 0.02')."""
    import pandas as pd

    rows = []
    for p in dict.fromkeys(df["point"]):
        d = df[df["point"] == p].iloc[0]
        row = {"point": p, **{c: d[c] for c in parameter_columns(df)}}
        for q, label in (("fraction_above_peak", "above peak"), ("baseline_above_peak", "baseline"),
                         ("barrier_slope_S", "dE/dS")):
            v, e = _one(df, q, p)
            row[label] = "" if v is None else f"{v:.3g} +- {e:.2g}"
        v, _ = _one(df, "onset_temperature", p)
        lo, hi = _one(df, "onset_temperature_low", p)[0], _one(df, "onset_temperature_high", p)[0]
        row["T* [interval]"] = "" if v is None else f"{v:.3g} [{lo:.3g}, {hi:.3g}]"
        row["T* fit"] = "selective" if _one(df, "onset_fit_selective", p)[0] == 1.0 else "all"
        T = _sel(df, "p_c", p)["T"].min()
        for q in ("p_c", "tau_alpha"):
            d_q = _sel(df, q, p)
            v = d_q[d_q["T"] == T]["value"]
            row[f"{q} (T = {T:.2f})"] = f"{v.iloc[0]:.3g}" if len(v) else ""
        rows.append(row)
    return pd.DataFrame(rows).set_index("point")
