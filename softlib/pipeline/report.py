"""Notebook 06's report: the paper's claims beside our numbers, where we differ and why, results.json and
COMPARISON.md.

Every sentence is built from the results it is given: nothing here knows a preset. Facts about the runs
(N, samples, production lengths) come from notebook 01's summaries (:func:`run_facts`).
"""
from __future__ import annotations

import json

import numpy as np

from ..io.softness_store import read_softness
from ..io.store import atomic_write_bytes, json_safe, provenance, read_json, write_json
from .plotting import pm, sig_text as sig, tf

#: the paper's numbers that the report quotes
PAPER = {"fraction_above_peak": 0.75, "onset": 0.801, "tau_alpha_047": 700.0, "N": 4000}


def _floats(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def p_r_contrast(per_temperature, T):
    """max / min of P_R(S) over the bins at T (from rearrangements.json's per_temperature)."""
    p = _floats(per_temperature[f"{T:.3f}"]["P_R"])
    return np.nanmax(p) / np.nanmin(p)


def equilibration_table(summaries):
    """{tag: {'T', 'tau_alpha', 'n_tau_eq', 'equilibrated', 'e_pot'}} from notebook 01's summaries."""
    equil = {}
    for f in sorted(summaries.glob("T*_s*.json")):
        d = json.loads(f.read_text())
        equil[d["tag"]] = {"T": d["T"], "tau_alpha": d["tau_alpha"], "n_tau_eq": d.get("n_tau_equilibration"),
                           "equilibrated": d["equilibrated"], "e_pot": d.get("e_pot")}
        if "made_by" in d:  # a data set's run, checked on its own frames by notebook 02 (no energies)
            equil[d["tag"]]["n_tau_run"] = d.get("n_tau_production")
    return equil


def run_facts(summaries):
    """{tag: {'T', 'N', 't_production'}} from notebook 01's summaries (t_production in tau)."""
    facts = {}
    for f in sorted(summaries.glob("T*_s*.json")):
        d = json.loads(f.read_text())
        t_prod = d.get("duration") or ((d.get("n_tau_production") or np.nan) * d["tau_alpha"]
                                       if d.get("tau_alpha") else np.nan)
        facts[d["tag"]] = {"T": d["T"], "N": d.get("N"), "t_production": float(t_prod)}
    return facts


def _optional_json(path):
    return read_json(path) if path.exists() else None


def finite_size(layout, other_preset, rear):
    """The two sizes at their first shared temperature: P(S), P(beta Phi_r), P_R(S), fractions, tau_alpha.

    ``rear``: this preset's rearrangements.json. Returns None without ``other_preset``; else a dict with
    ``T``, ``preset``, ``sizes`` {preset: {...}} and, when both used the same softness bins, ``P_R_z``
    (the bin-by-bin difference of P_R in units of its error, large minus small).
    """
    if not other_preset:
        return None
    other = layout.for_preset(other_preset)
    fs_rear_path = other.json("rearrangements")
    if not fs_rear_path.exists():
        raise FileNotFoundError(f"{fs_rear_path} is missing: run notebooks 01, 03 and 05 for preset "
                                f"{other_preset!r} (make paper does) or set finite_size_preset = None")
    fs_rear = read_json(fs_rear_path)
    shared = [T for T in fs_rear["per_temperature"] if T in rear["per_temperature"]]
    if not shared:
        raise ValueError(f"{fs_rear_path} has no temperature in common with {list(rear['per_temperature'])}")
    T_fs = shared[0]
    fs = {"T": float(T_fs), "preset": other_preset, "sizes": {}}
    for lay, rr in ((layout, rear), (other, fs_rear)):
        d = rr["per_temperature"][T_fs]
        run = json.loads((lay.run(d["samples"][0]) / "run.json").read_text())
        files = [read_softness(lay.softness_of(t), "linear") for t in d["samples"]]
        S = np.concatenate([np.asarray(f["softness"], float).ravel() for f in files])
        dep = np.concatenate([np.asarray(f["depth"], float).ravel() for f in files])
        fs["sizes"][lay.preset] = {
            "N": int(run["plan"]["N"]), "engine": run["engine"], "ranks": run.get("ranks", 1),
            "S": S[np.isfinite(S)], "depth": dep, "P_R": _floats(d["P_R"]), "P_R_err": _floats(d["P_R_err"]),
            "bins": np.asarray(rr["softness_bins"], float), "tau_alpha": d["tau_alpha"], "p_c": d["p_c"],
            "fractions": d["fractions"], "fraction_rearranging": d["fraction_rearranging"]}
    a, b = fs["sizes"].values()
    if np.allclose(a["bins"], b["bins"]):
        fs["P_R_z"] = (b["P_R"] - a["P_R"]) / np.hypot(a["P_R_err"], b["P_R_err"])
    return fs


def finite_size_table(fs):
    """The printed comparison of the two sizes, one line per quantity."""
    rows = [("mean beta Phi_r", lambda d: sig(d["depth"].mean(), 3)), ("sd beta Phi_r", lambda d: sig(d["depth"].std(), 2)),
            ("mean S", lambda d: sig(d["S"].mean(), 3)), ("sd S", lambda d: sig(d["S"].std(), 2)),
            ("tau_alpha", lambda d: sig(d["tau_alpha"], 2)), ("p_c", lambda d: sig(d["p_c"], 2)),
            ("rearranging particle-frames", lambda d: f"{d['fraction_rearranging']:.2f}"),
            ("events above the peak (%)", lambda d: f"{100 * d['fractions']['fraction_above_peak']['value']:.0f}"),
            ("baseline above the peak (%)", lambda d: f"{100 * d['fractions']['baseline_above_peak']['value']:.0f}"),
            ("P_R max/min over the bins", lambda d: sig(np.nanmax(d["P_R"]) / np.nanmin(d["P_R"]), 2))]
    sizes = fs["sizes"].values()
    lines = [f"T = {fs['T']:.2f}: {'':>22}" + "".join(f"{'N = ' + str(d['N']):>12}" for d in sizes)]
    lines += [f"{label:>30}" + "".join(f"{f(d):>12}" for d in sizes) for label, f in rows]
    if "P_R_z" in fs:
        lines.append(f"P_R(S) of the two sizes, bin by bin: (large - small) / error = "
                     f"{np.round(fs['P_R_z'], 1).tolist()}")
    return lines


def comparison_rows(rear, fits, selective_reason, trend, shown, labels, equil, calibration="paper",
                    t_selective=0.60, cal=None, loc=None, life=None, fs=None, kind="preset", pred=None, prop=None):
    """The table of claims: [(claim, paper, ours, note)], each entry from the results given.

    ``pred``, ``prop``: predictors.json (notebook 07) and propensity.json (notebook 08) where they exist; each
    adds its row.

    ``kind``: 'preset' (runs of notebook 01) or 'data set' (someone's trajectories, checked by notebook 02)."""
    pt = rear["per_temperature"]
    temperatures = sorted(float(T) for T in rear["temperatures"])
    T_low = min(temperatures)
    low = pt[f"{T_low:.3f}"]
    fr = low["fractions"]
    rows = []
    if cal is not None:
        r2 = cal.get("r2", {})
        two = len(cal.get("temperatures", [])) == 2
        rows.append(("Fig. 1: 1/S^av, Phi_q, Phi_r linear in each other", "linear",
                     "2 temperatures: a line through two points cannot test linearity" if two else
                     ", ".join(f"R^2({k}) = {'n/a' if v is None else f'{v:.3f}'}" for k, v in r2.items()),
                     "notebook 02"))
    else:
        rows.append(("Fig. 1 linearity (R^2)", "linear", "calibration.json not found", "run notebook 02"))
    if loc is not None:
        lt = loc.get("per_temperature", {})
        ts = sorted(lt, key=float)

        def stat(T, part, k):
            return lt[T].get(part, {}).get(k, float("nan"))

        rows.append(("Fig. 3: P(beta Phi_r) deeper and broader as T falls", "yes",
                     ", ".join(f"T={float(T):.2f}: mean {sig(stat(T, 'depth', 'mean'), 3)}, "
                               f"sd {sig(stat(T, 'depth', 'std'), 2)}" for T in ts), "notebook 03"))
        rows.append(("Fig. 3: P(S) at smaller S and narrower as T falls", "yes",
                     ", ".join(f"T={float(T):.2f}: mean {sig(stat(T, calibration, 'mean'), 2)}, "
                               f"sd {sig(stat(T, calibration, 'std'), 2)}" for T in ts),
                     f"calibration {calibration!r}"))
    else:
        rows.append(("Fig. 3: P(beta Phi_r), P(S) against T", "shift and width", "local_softness.json not found",
                     "run notebook 03"))
    if life is not None:
        entries = life.get("runs") or life.get("per_temperature") or {}
        txt = "; ".join(f"{tag}: " + ", ".join(f"{k} = {sig(d[k], 2)}" for k in ("tau_C_S", "tau_Q", "tau_alpha")
                                              if isinstance(d.get(k), (int, float)))
                        for tag, d in entries.items() if isinstance(d, dict))
        rows.append(("Fig. 4: C_S(t) decays in two steps like Q(t); their times", "similar times",
                     txt or "no decay times in lifetime.json", "notebook 04"))
    else:
        rows.append(("Fig. 4: C_S(t) against Q(t)", "similar times", "lifetime.json not found", "run notebook 04"))
    fit_all = fits["all"]
    rows += [
        (f"Fig. 5(a): rearranging softer than the peak of P(S) (T = {T_low:.2f})", "about 75 % (T = 0.47)",
         pm(fr["fraction_above_peak"]), f"baseline {pm(fr['baseline_above_peak'])}; "
         f"above the median {pm(fr['fraction_above_median'])} (baseline 50 %)"),
        ("Fig. 5(b): P_R(S) rises with S, more steeply at low T", "yes",
         ", ".join(f"T={T:.2f}: max/min {sig(p_r_contrast(pt, T), 2)}" for T in temperatures),
         "over the shared bins"),
        ("Fig. 5(c): ln P_R linear in 1/T", "linear",
         f"median chi^2/dof {sig(np.nanmedian(fit_all.chi2_dof), 2)} (all T, dof {fit_all.dof})"
         if fit_all.dof > 0 else "2 temperatures: a line through two points cannot test linearity",
         f"{int(fit_all.kept.sum())} bins kept"),
        ("Fig. 5(c): crossing (onset) temperature, all T", "0.801",
         f"{tf(fit_all.crossing['T'])} [{tf(fit_all.crossing['low'])}, {tf(fit_all.crossing['high'])}]",
         f"T = {temperatures}"),
        (f"Fig. 5(c): crossing, T <= {t_selective}", "0.801",
         (f"{tf(fits['selective'].crossing['T'])} [{tf(fits['selective'].crossing['low'])}, "
          f"{tf(fits['selective'].crossing['high'])}]") if "selective" in fits else "no fit",
         "" if "selective" in fits else (selective_reason or "").split(":")[0]),
        ("Fig. 5(d): Delta E falls with S", "yes",
         f"slope {sig(trend['S']['slope'], 2)} +- {sig(trend['S']['slope_err'], 1)}, R^2 {trend['S']['r2']:.2f}",
         f"fit over {labels[shown]}"),
        ("Fig. 5(d), right panel: Delta E linear in 1/S", "linear, deviations at small S",
         f"R^2 {trend['inv_S']['r2']:.2f}", ""),
        ("tau_alpha at the lowest T", "700 at T = 0.47", f"{sig(low['tau_alpha'], 2)} at T = {T_low:.2f}",
         "F_s(q = 7.25) = 1/e, A particles, dense frames, mean of the samples; per sample ("
         + ("notebook 01" if kind == "preset" else "equilibration check of notebook 02") + "): "
         + ", ".join(f"{t}: {sig(d['tau_alpha'], 2)}" for t, d in equil.items() if abs(d["T"] - T_low) < 1e-9)),
    ]
    if equil:
        bad = [t for t, d in equil.items() if not d["equilibrated"]]
        n_eq = [d["n_tau_eq"] for d in equil.values() if d.get("n_tau_eq") is not None]
        n_run = [d["n_tau_run"] for d in equil.values() if d.get("n_tau_run") is not None]
        length = (f"equilibration >= {min(n_eq):.0f} tau_alpha" if n_eq else
                  f"trajectories of >= {min(n_run):.0f} tau_alpha" if n_run else "lengths unknown")
        checks = ("energy drift, two halves, length" if n_eq else
                  "length and two halves of the dense frames; no energies, so no drift check")
        rows.append(("Equilibration (ours only)", "-", f"{len(equil) - len(bad)} of {len(equil)} runs pass; {length}",
                     (("left out or analysed with a warning: " if kind != "preset" else "left out: ")
                      + ", ".join(bad)) if bad else checks))
    if fs is not None:
        a, b = fs["sizes"].values()
        T_fs = fs["T"]

        def both(f):
            return f"N={a['N']}: {f(a)}; N={b['N']}: {f(b)}"

        rows += [
            (f"Finite size, T = {T_fs:.2f}: P(S) mean / sd", "(paper N = 4000)",
             both(lambda d: f"{sig(d['S'].mean(), 3)} / {sig(d['S'].std(), 2)}"), "softness with this preset's c0, c1"),
            (f"Finite size, T = {T_fs:.2f}: P(beta Phi_r) mean / sd", "(paper N = 4000)",
             both(lambda d: f"{sig(d['depth'].mean(), 3)} / {sig(d['depth'].std(), 2)}"), ""),
            (f"Finite size, T = {T_fs:.2f}: P_R(S) max/min", "(paper N = 4000)",
             both(lambda d: sig(np.nanmax(d["P_R"]) / np.nanmin(d["P_R"]), 2)),
             ("same bins; bin-by-bin (large - small)/error: " + ", ".join(f"{z:.1f}" for z in fs["P_R_z"]))
             if "P_R_z" in fs else "different bins"),
            (f"Finite size, T = {T_fs:.2f}: rearranging softer than the peak", "(paper N = 4000)",
             both(lambda d: pm(d["fractions"]["fraction_above_peak"])),
             "baselines " + both(lambda d: pm(d["fractions"]["baseline_above_peak"]))),
            (f"Finite size, T = {T_fs:.2f}: tau_alpha", "(paper N = 4000)", both(lambda d: sig(d["tau_alpha"], 2)),
             f"N = {b['N']} run by {b['engine']} on {b['ranks']} MPI rank(s)"),
        ]
    if pred is not None:
        rows.append(predictors_comparison_row(pred))
    if prop is not None:
        rows.append(propensity_comparison_row(prop))
    return rows


def table_lines(rows):
    """The table of claims as printed lines: claim | paper | ours (note)."""
    w0 = max(len(r[0]) for r in rows)
    return [f"{claim:<{w0}} | paper: {paper:<22} | ours: {ours}" + (f"  ({note})" if note else "")
            for claim, paper, ours, note in rows]


def _runs_at(facts, T):
    return [d for d in facts.values() if abs(d["T"] - T) < 1e-9]


def _sizes(facts):
    return sorted({d["N"] for d in facts.values() if d.get("N")})


def differences(rear, fits, labels, equil, facts=None, fs=None, kind="preset", chi2_bent=3.0, flat=1.5,
                busy=0.5, near=0.05):
    """Where we differ from the paper, by how much and the likely reasons: a list of sentences.

    ``facts``: :func:`run_facts` (N, production lengths); sentences that need them leave them out
    when they are not given. Every statement is conditional on the numbers given: 'not linear' only
    with three or more temperatures and a median chi^2/dof above ``chi2_bent``; 'flat' only for a
    contrast of P_R(S) below ``flat`` with more than ``busy`` of the particle-frames rearranging;
    'close to the paper's' only within ``near``. (``busy`` is kept for callers; the flatness decides.) ``kind`` names what the data are ('preset', 'data set').
    """
    facts = facts or {}
    pt = rear["per_temperature"]
    temperatures = sorted(float(T) for T in rear["temperatures"])
    T_low = min(temperatures)
    low = pt[f"{T_low:.3f}"]
    fr = low["fractions"]
    sizes = _sizes(facts)
    at_n = f" at N = {sizes[0]}" if len(sizes) == 1 else ""
    out = []
    by_T = {}
    for d in equil.values():
        if d.get("tau_alpha") is not None and np.isfinite(d["tau_alpha"]):
            by_T.setdefault(round(d["T"], 6), []).append(d["tau_alpha"])
    tau_samples = by_T.get(round(T_low, 6), [])
    if abs(T_low - 0.47) < 1e-9:
        within = len(tau_samples) > 1 and min(tau_samples) <= 700 <= max(tau_samples)
        out.append(
            f"tau_alpha(0.47) = {sig(low['tau_alpha'], 2)} (mean of {len(tau_samples)} sample(s): "
            f"{', '.join(sig(t, 2) for t in tau_samples)}) against 700 (ratio {low['tau_alpha'] / 700:.2f})"
            + ("; the paper's value lies between our samples." if within else "."))
    else:
        out.append(f"The lowest temperature is {T_low:.2f}, not 0.47: tau_alpha cannot be compared with the "
                   "paper's 700.")
    several = {T: v for T, v in by_T.items() if len(v) > 1}
    if several:
        out.append(
            f"Sample-to-sample scatter{at_n}: tau_alpha of the samples "
            + "; ".join(f"T = {T:.2f}: {' / '.join(sig(t, 2) for t in v)} (factor {max(v) / min(v):.1f})"
                        for T, v in sorted(several.items()))
            + ". Numbers at these temperatures pool the samples; their bootstrap errors (over particles) do not "
            "contain this scatter, which is the larger uncertainty at the lowest temperatures.")
    f_pk, f_base = fr["fraction_above_peak"], fr["baseline_above_peak"]
    wins = [w for w in rear.get("window_sensitivity", []) if "fraction_above_peak" in w]
    runs_low = _runs_at(facts, T_low)
    if runs_low:
        t_prod = [d["t_production"] for d in runs_low if np.isfinite(d["t_production"])]
        length = f"{sig(max(t_prod), 2)} tau, " if t_prod else ""
        size = f"N = {sizes[0]} against the paper's {PAPER['N']}, " if len(sizes) == 1 else ""
        smaller = "our smaller system and " if len(sizes) == 1 and sizes[0] < PAPER["N"] else "our "
        why = (f"{smaller}run lengths at T = {T_low:.2f} ({size}{length}"
               f"{len(runs_low)} sample{'s' if len(runs_low) > 1 else ''})")
    else:
        why = "our system size and run lengths"
    out.append(
        f"Rearranging particles softer than the peak of P(S) at T = {T_low:.2f}: {pm(f_pk)} against about 75 % "
        f"({100 * (f_pk['value'] - 0.75):+.0f} points). The blind baseline is {pm(f_base)}, so the softness "
        f"adds {100 * (f_pk['value'] - f_base['value']):.0f} points over chance"
        + (" (Delta t = " + ", ".join(f"{w['window']:g}: {100 * w['fraction_above_peak']['value']:.0f} %"
                                      for w in wins) + ")" if wins else "")
        + ". The paper gives no baseline; the mode of P(S), and with it this fraction, moves with c0, c1 and the "
        "skewness of P(S), whereas the fraction above the median "
        f"({pm(fr['fraction_above_median'])}, baseline 50 %) does not depend on the calibration. Likely reasons for "
        f"the gap: {why}, and choices the paper leaves open (p_c from the MSD at t*, softness at the first frame "
        "of an event).")
    hot = max(temperatures)
    c = fits["all"].crossing
    n_fit = int(np.size(fits["all"].temperatures))
    chi2 = float(np.nanmedian(fits["all"].chi2_dof)) if np.any(np.isfinite(fits["all"].chi2_dof)) else float("nan")

    def vs_paper(T):
        if T is None or not np.isfinite(T):
            return "no crossing to compare with the paper's 0.801"
        if abs(T - PAPER["onset"]) <= near:
            return f"close to the paper's {PAPER['onset']}"
        return f"{abs(T - PAPER['onset']):.2f} {'below' if T < PAPER['onset'] else 'above'} the paper's {PAPER['onset']}"

    text = f"Crossing over all temperatures: {tf(c['T'])} [{tf(c['low'])}, {tf(c['high'])}], {vs_paper(c['T'])}"
    if n_fit < 3:
        text += (f". With {n_fit} temperatures each line goes through two points: a line through two points "
                 "cannot test linearity (chi^2/dof is undefined), so the Arrhenius form is assumed, not tested.")
    elif np.isfinite(chi2) and chi2 > chi2_bent:
        text += (f", but with median chi^2/dof {sig(chi2, 2)}: ln P_R is not linear in 1/T over "
                 f"{min(temperatures):.2f}-{hot:.2f}.")
    else:
        text += (f"; median chi^2/dof {sig(chi2, 2)}: ln P_R is consistent with a line in 1/T over "
                 f"{min(temperatures):.2f}-{hot:.2f}.")
    busy_hot = pt[f"{hot:.3f}"].get("fraction_rearranging")
    contrast_hot = p_r_contrast(pt, hot)
    if busy_hot is not None and np.isfinite(contrast_hot) and contrast_hot < flat:
        text += (f" At T = {hot:.2f}, {100 * busy_hot:.0f} % of all particle-frames count as rearranging and "
                 f"P_R(S) is flat (max/min {sig(contrast_hot, 2)}), so every line passes near one point at "
                 f"1/T = {1 / hot:.2f}: a fit that includes the hottest temperature puts the crossing near it "
                 "whatever the colder temperatures say. The paper studies temperatures up to 0.80 (its Fig. 4), so "
                 "its 0.801 may be pinned in the same way if T = 0.80 entered its fit.")
    out.append(text)
    if "selective" in fits:
        c = fits["selective"].crossing
        moved = abs(fits["all"].crossing["T"] - c["T"]) if c["T"] is not None and fits["all"].crossing["T"] \
            is not None else float("nan")
        out.append(
            f"Crossing over {labels['selective']} (where p_hop is selective): {tf(c['T'])} [{tf(c['low'])}, "
            f"{tf(c['high'])}], median chi^2/dof {sig(np.nanmedian(fits['selective'].chi2_dof), 2)}; "
            f"{vs_paper(c['T'])}. The bootstrap intervals cover the sampling of particles, not the choice of "
            f"temperatures, which here moves the crossing by {sig(moved, 2)}"
            + (": our data do not pin an onset temperature to 0.80." if np.isfinite(moved) and moved > near
               else "."))
    if fs is not None:
        a, b = fs["sizes"].values()
        ratio = np.nanmean(b["P_R"] / a["P_R"]) if np.allclose(a["bins"], b["bins"]) else np.nan
        out.append(
            f"Size (T = {fs['T']:.2f}, one sample each): from N = {a['N']} to N = {b['N']} the mean softness moves by "
            f"{100 * (b['S'].mean() / a['S'].mean() - 1):+.1f} % and its width by "
            f"{100 * (b['S'].std() / a['S'].std() - 1):+.1f} %, the fraction of events above the peak from "
            f"{pm(a['fractions']['fraction_above_peak'])} to {pm(b['fractions']['fraction_above_peak'])}, and the "
            f"contrast of P_R(S) from {sig(np.nanmax(a['P_R']) / np.nanmin(a['P_R']), 2)} to "
            f"{sig(np.nanmax(b['P_R']) / np.nanmin(b['P_R']), 2)}: the softness statistics do not depend on N here. "
            + (f"P_R itself is {100 * (ratio - 1):+.0f} % at N = {b['N']} in every bin, with tau_alpha "
               f"{sig(b['tau_alpha'], 2)} against {sig(a['tau_alpha'], 2)}; one sample per size cannot separate "
               "this from the sample-to-sample scatter above." if np.isfinite(ratio) else ""))
    n_T = len(temperatures)
    out.append(f"The paper's c0 and c1 are not given; ours are fitted over the {n_T} temperatures of this {kind} "
               "(notebook 02), and every softness value inherits their uncertainty"
               + (": with two temperatures the line goes exactly through both points and that uncertainty is "
                  "unknown." if n_T == 2 else "."))
    return out


def smoke_test_note(rear, fits, facts=None, window=15.0, t_selective=0.60, long_window=4.0, kind="preset"):
    """A warning for presets that cannot test the paper's numbers (no selective fit): built from the data."""
    if "selective" in fits:
        return None
    facts = facts or {}
    pt = rear["per_temperature"]
    temps = sorted(float(T) for T in rear["temperatures"])
    sizes = _sizes(facts)
    t_prod = [d["t_production"] for d in facts.values() if np.isfinite(d["t_production"])]
    what = ", ".join(([f"N = {sizes[0]}"] if len(sizes) == 1 else [])
                     + [f"T = {temps[0]:.2f} ... {temps[-1]:.2f}"]
                     + ([f"runs of {sig(min(t_prod), 2)}-{sig(max(t_prod), 2)} tau"] if t_prod else []))
    hot = [T for T in temps if np.isfinite(pt[f"{T:.3f}"].get("tau_alpha") or np.nan)
           and window >= long_window * pt[f"{T:.3f}"]["tau_alpha"]]
    n_sel = sum(T <= t_selective + 1e-9 for T in temps)
    text = f"This {kind} ({what}) is a smoke test: " if kind == "preset" else \
        f"This {kind} ({what}) cannot test the paper's onset: "
    if hot:
        text += (f"at T >= {min(hot):.2f} the window Dt = {window:g} is {long_window:g} tau_alpha or longer, so p_hop "
                 "marks a large share of all particle-frames and P_R(S) is nearly flat; ")
    text += (f"{'only ' if n_sel else ''}{n_sel} temperature{'s are' if n_sel != 1 else ' is'} <= {t_selective:.2f}, "
             "so the selective fit cannot be made. Compare signs, not values.")
    return text


def results_dict(preset, rear, fits, selective_reason, trend, shown, labels, equil, edges, diffs, fs=None,
                 window=15.0, calibration="paper", **parameters):
    """The contents of ``<data>/<preset>/results.json`` (strict JSON). ``parameters`` go to the provenance."""
    pt = rear["per_temperature"]
    temperatures = [float(T) for T in sorted(float(t) for t in rear["temperatures"])]
    T_low = min(temperatures)
    fr = pt[f"{T_low:.3f}"]["fractions"]
    fit, onset = fits[shown], fits[shown].crossing
    results = {
        "preset": preset,
        "temperatures": temperatures,
        "fraction_above_peak": fr["fraction_above_peak"],
        "fraction_above_peak_T": T_low,
        "baseline_above_peak": fr["baseline_above_peak"],
        "fraction_above_median": fr["fraction_above_median"],
        "onset_temperature": {"value": onset["T"], "low": onset["low"], "high": onset["high"],
                              "fit": labels[shown], "interval": onset["interval"]},
        "onset_temperature_all": {k: fits["all"].crossing[k] for k in ("T", "low", "high")},
        "onset_temperature_selective": ({k: fits["selective"].crossing[k] for k in ("T", "low", "high")}
                                        if "selective" in fits else {"value": None, "reason": selective_reason}),
        "tau_alpha": {f"{T:.3f}": pt[f"{T:.3f}"]["tau_alpha"] for T in temperatures},
        "p_c": {f"{T:.3f}": pt[f"{T:.3f}"]["p_c"] for T in temperatures},
        "softness_bins": edges,
        "delta_E": fit.delta_e, "delta_E_error": fit.delta_e_err,
        "ln_P0": fit.ln_p0, "ln_P0_error": fit.ln_p0_err, "chi2_dof": fit.chi2_dof,
        "excluded_bins": fit.excluded,
        "barrier_trend": trend,
        "equilibration": equil,
        "finite_size": None if fs is None else {
            "T": fs["T"], "preset": fs["preset"], "P_R_z": fs.get("P_R_z"),
            "sizes": {k: {kk: vv for kk, vv in d.items() if kk not in ("S", "depth")} |
                      {"S_mean": float(d["S"].mean()), "S_std": float(d["S"].std()),
                       "depth_mean": float(d["depth"].mean()), "depth_std": float(d["depth"].std())}
                      for k, d in fs["sizes"].items()}},
        "differences": diffs,
        "window": window, "calibration": calibration,
        "provenance": provenance(notebook="06_arrhenius", preset=preset, window=window, calibration=calibration,
                                 **parameters),
    }
    return json_safe(results)


def comparison_markdown(results, rows, diffs, shown_label, note=None):
    """COMPARISON.md as text: the table of claims, the errors used, the differences and a note."""
    onset = results["onset_temperature"]
    md = [f"# {results['preset']}: the paper's claims beside our numbers", "",
          f"Generated by notebooks/06_arrhenius.py (git {results['provenance']['git_revision']}); "
          f"temperatures {results['temperatures']}, p_hop window {results['window']:g}, "
          f"calibration {results['calibration']!r}.", "",
          "| claim | paper | ours | note |", "| --- | --- | --- | --- |"]
    md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    md += ["", "Errors: bootstrap over particles. Intervals: "
           f"{100 * onset['interval']:.0f} % bootstrap. Figures 5(c, d) use the fit over {shown_label}."]
    md += ["", "## Where we differ from the paper, by how much, and the likely reasons", ""]
    md += [f"- {d}" for d in diffs]
    if note:
        md += ["", note]
    return "\n".join(md) + "\n"


def write_report(layout, results, rows, diffs, shown_label, note=None):
    """Write results.json and COMPARISON.md of the preset atomically; returns their paths."""
    write_json(layout.json("results"), results)
    atomic_write_bytes(layout.comparison, comparison_markdown(results, rows, diffs, shown_label, note).encode())
    return layout.json("results"), layout.comparison


def stage_outputs(layout):
    """``cal``, ``loc``, ``life``, ``pred``, ``prop``: calibration, local_softness, lifetime, predictors and
    propensity json of the preset (None where missing), the keyword arguments of :func:`comparison_rows`."""
    return {k: _optional_json(layout.json(stage)) for k, stage in
            (("cal", "calibration"), ("loc", "local_softness"), ("life", "lifetime"), ("pred", "predictors"),
             ("prop", "propensity"))}


def predictors_comparison_row(predictors):
    """The COMPARISON.md row of notebook 07: the paper's 75 % / 77 % beside our fractions, accuracies and AUCs.

    Parameters
    ----------
    predictors : dict
        Contents of ``predictors.json``; its lowest temperature where both S and S_ML have metrics is used.

    Returns
    -------
    (claim, paper, ours, note) strings, in the format of :func:`comparison_rows`.
    """
    def pct(v, e):
        return "n/a" if v is None else f"{100 * v:.0f} % +- {100 * (e or 0):.1g} %"

    def num(v, e):
        return "n/a" if v is None else f"{sig(v, 2)} +- {sig(e, 1)}"

    claim = "Fig. 5(a) vs machine learning: rearranging above the peak / test accuracy (notebook 07)"
    paper = "75 % (S, T = 0.47) / 77 % (SVM on radial functions)"
    per = predictors["predictors"]
    temps = sorted(float(T) for T in predictors["temperatures"])
    T = next((t for t in temps if f"{t:.3f}" in per.get("S", {}) and f"{t:.3f}" in per.get("S_ML", {})), None)
    if T is None:
        return claim, paper, "no metrics", "too few examples to train and test at every temperature"
    k = f"{T:.3f}"
    s, m = per["S"][k], per["S_ML"][k]
    ours = "; ".join(
        f"{name} above peak {pct(v['fraction_above_peak'], v.get('fraction_above_peak_error'))} (baseline "
        f"{pct(v.get('baseline_above_peak'), v.get('baseline_above_peak_error'))}), balanced accuracy "
        f"{pct(v['balanced_accuracy'], v.get('balanced_accuracy_error'))}, AUC {num(v['auc'], v['auc_error'])}"
        for name, v in (("S", s), ("S_ML", m)))
    note = (f"T = {T:.2f}. 75 % is the share of rearranging particles above the mode of P(S), to be read against "
            "the share of all particles there (baseline); 77 % is an SVM's accuracy on balanced soft/hard test "
            "sets (baseline 50 %): different metrics. Balanced accuracy and AUC put both predictors on the same "
            "held-out examples")
    return claim, paper, ours, note


def propensity_comparison_row(prop):
    """The COMPARISON.md row of notebook 08: Pearson of S (bare, coarse-grained) and S_ML with the propensity.

    Parameters
    ----------
    prop : dict
        Contents of ``propensity.json``.

    Returns
    -------
    (claim, paper, ours, note) strings, in the format of :func:`comparison_rows`.
    """
    claim = "Structure predicts the dynamic propensity: Pearson at t = tau_alpha (notebook 08)"
    paper = "not measured; ML models 0.56-0.67 at T = 0.64, 0.72-0.82 at 0.44 (GlassBench)"
    at = prop["at_tau_alpha"]
    parts = []
    for k in sorted(prop["ceiling"], key=float, reverse=True):
        vals = ", ".join(f"{n} {at[n][k]:+.2f}" for n in ("S", "S_cg", "S_ML") if n in at and at[n].get(k) is not None)
        parts.append(f"T = {float(k):.2f}: {vals} (ceiling {prop['ceiling'][k]:.2f}, "
                     f"{prop['n_a_particles'][k]} A particles)")
    note = (f"N = {prop['N']}, {next(iter(prop['n_replicas'].values()))} replicas per configuration; S_cg is S "
            "averaged over neighbours with weight exp(-r/L) at the best L; the published models are fitted to "
            "propensity, S has no free parameter")
    return claim, paper, "; ".join(parts), note
