"""softlib.pipeline.report: the paper-versus-ours table, the differences and the files, from given results."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from softlib.pipeline import report
from softlib.pipeline.layout import Layout


def _fit(temps, crossing_T, chi2=(2.0, 4.0), kept=(True, True, False)):
    return SimpleNamespace(
        temperatures=np.array(temps), dof=len(temps) - 2, chi2_dof=np.array([*chi2, np.nan]), kept=np.array(kept),
        crossing={"T": crossing_T, "low": crossing_T - 0.1, "high": crossing_T + 0.1, "interval": 0.68,
                  "inv_T": 1 / crossing_T, "ln_p": -1.0, "n_failed": 0, "n_boot": 10},
        delta_e=np.array([3.0, 2.0, np.nan]), delta_e_err=np.array([0.1, 0.1, np.nan]),
        ln_p0=np.array([1.0, 0.5, np.nan]), ln_p0_err=np.array([0.1, 0.1, np.nan]), excluded=[])


def _frac(v, e):
    return {"value": v, "error": e}


def _rear(temps=(0.6, 0.7, 0.8)):
    pt = {}
    for k, T in enumerate(temps):
        pt[f"{T:.3f}"] = {"P_R": [0.01 * (k + 1), None, 0.04 * (k + 1)], "P_R_err": [0.001, None, 0.002],
                          "tau_alpha": 30.0 / (k + 1), "p_c": 0.1, "fraction_rearranging": 0.1 * (k + 1),
                          "fractions": {"fraction_above_peak": _frac(0.6412, 0.0312),
                                        "baseline_above_peak": _frac(0.45, 0.01),
                                        "fraction_above_median": _frac(0.58, 0.02)}}
    return {"temperatures": list(temps), "per_temperature": pt, "softness_bins": [0, 1, 2, 3],
            "window_sensitivity": [{"window": 15.0, "fraction_above_peak": _frac(0.64, 0.03)},
                                   {"window": 75.0, "skipped": "production"}]}


TREND = {"S": {"slope": -120.0, "slope_err": 7.0, "r2": 0.91, "intercept": 5.0},
         "inv_S": {"slope": 0.002, "slope_err": 0.0001, "r2": 0.95, "intercept": 0.1}}
EQUIL = {"T0.600_s0": {"T": 0.6, "tau_alpha": 28.0, "n_tau_eq": 11.0, "equilibrated": True, "e_pot": -6.9},
         "T0.600_s1": {"T": 0.6, "tau_alpha": 35.0, "n_tau_eq": 9.0, "equilibrated": False, "e_pot": -6.9}}
FACTS = {"T0.600_s0": {"T": 0.6, "N": 500, "t_production": 200.0},
         "T0.600_s1": {"T": 0.6, "N": 500, "t_production": 200.0}}
LABELS = {"all": "all temperatures", "selective": "T <= 0.6"}


def test_table_reproduces_the_numbers_it_is_given():
    fits = {"all": _fit([0.6, 0.7, 0.8], 0.81)}
    rows = report.comparison_rows(_rear(), fits, "too few temperatures: need 2", TREND, "all", LABELS, EQUIL,
                                  cal={"r2": {"a": 0.991, "b": 0.9}}, loc=None, life=None)
    by_claim = {r[0]: r for r in rows}
    assert by_claim["Fig. 1: 1/S^av, Phi_q, Phi_r linear in each other"][2] == "R^2(a) = 0.991, R^2(b) = 0.900"
    assert by_claim["Fig. 3: P(beta Phi_r), P(S) against T"][2] == "local_softness.json not found"
    peak = by_claim["Fig. 5(a): rearranging softer than the peak of P(S) (T = 0.60)"]
    assert peak[2] == "64 % +- 3 %" and "baseline 45 % +- 1 %" in peak[3]
    # P_R max/min per temperature: 0.04 k / 0.01 k = 4, the missing bin ignored
    assert by_claim["Fig. 5(b): P_R(S) rises with S, more steeply at low T"][2] == \
        "T=0.60: max/min 4, T=0.70: max/min 4, T=0.80: max/min 4"
    assert by_claim["Fig. 5(c): ln P_R linear in 1/T"][2] == "median chi^2/dof 3 (all T, dof 1)"
    assert by_claim["Fig. 5(c): crossing (onset) temperature, all T"][2] == "0.81 [0.71, 0.91]"
    assert by_claim["Fig. 5(c): crossing, T <= 0.6"][2:] == ("no fit", "too few temperatures")
    assert by_claim["Fig. 5(d): Delta E falls with S"][2] == "slope -120 +- 7, R^2 0.91"
    assert by_claim["tau_alpha at the lowest T"][2] == "30 at T = 0.60"
    assert "T0.600_s0: 28, T0.600_s1: 35" in by_claim["tau_alpha at the lowest T"][3]
    assert by_claim["Equilibration (ours only)"][2:] == ("1 of 2 runs pass; equilibration >= 9 tau_alpha",
                                                         "left out: T0.600_s1")
    lines = report.table_lines(rows)
    assert len(lines) == len(rows) and all(" | paper: " in x for x in lines)


def test_differences_state_only_facts_from_the_results():
    fits = {"all": _fit([0.6, 0.7, 0.8], 0.81), "selective": _fit([0.6, 0.7], 0.7)}
    with_facts = report.differences(_rear(), fits, LABELS, EQUIL, FACTS)
    text = " ".join(with_facts)
    assert "The lowest temperature is 0.60, not 0.47" in text
    assert "Sample-to-sample scatter at N = 500: tau_alpha of the samples T = 0.60: 28 / 35 (factor 1.2)" in text
    assert "(N = 500 against the paper's 4000, 200 tau, 2 samples)" in text
    assert "64 % +- 3 % against about 75 % (-11 points)" in text and "adds 19 points over chance" in text
    assert "(Delta t = 15: 64 %)" in text
    # at T = 0.80 P_R(S) rises fourfold and 30 % of particle-frames rearrange: not 'flat', so not said
    assert "At T = 0.80" not in text and "is flat" not in text
    assert "ln P_R is not linear in 1/T" not in text  # median chi^2/dof 3 is not above chi2_bent = 3
    flat = _rear()
    flat["per_temperature"]["0.800"].update(P_R=[0.5, None, 0.6], fraction_rearranging=0.9)
    text_flat = " ".join(report.differences(flat, fits, LABELS, EQUIL, FACTS, chi2_bent=2.5))
    assert "At T = 0.80, 90 % of all particle-frames count as rearranging and P_R(S) is flat (max/min 1.2)" \
        in text_flat
    assert "ln P_R is not linear in 1/T over 0.60-0.80" in text_flat
    assert "Crossing over T <= 0.6 (where p_hop is selective): 0.70 [0.60, 0.80]" in text
    assert "0.10 below the paper's" in text and "moves the crossing by 0.11" in text
    # without facts about the runs: no N, no run length, no sample count
    bare = " ".join(report.differences(_rear(), {"all": fits["all"]}, LABELS, {}, None))
    for claim in ("N = ", "1000", "12000", "2 samples", "tau, "):
        assert claim not in bare, claim
    assert "our system size and run lengths" in bare


def test_smoke_test_note_is_built_from_the_data():
    fits = {"all": _fit([0.6, 0.7, 0.8], 0.81)}
    note = report.smoke_test_note(_rear((0.6, 0.7, 0.8, 1.0)), fits, FACTS, window=15.0, t_selective=0.6)
    # tau_alpha = 30 / (k + 1): 10 at 0.8 and 7.5 at 1.0, so Dt = 15 is never 5 tau_alpha long ...
    assert "N = 500, T = 0.60 ... 1.00, runs of 200-200 tau" in note
    assert "only 1 temperature is <= 0.60" in note and "Dt" not in note
    # ... but 1.5 tau_alpha long from T = 0.8 up
    note2 = report.smoke_test_note(_rear((0.6, 0.7, 0.8, 1.0)), fits, FACTS, window=15.0, long_window=1.5)
    assert "at T >= 0.80 the window Dt = 15 is 1.5 tau_alpha or longer" in note2
    assert report.smoke_test_note(_rear(), {**fits, "selective": fits["all"]}, FACTS) is None


def test_results_and_comparison_are_written_atomically(tmp_path):
    lay = Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f").makedirs()
    fits = {"all": _fit([0.6, 0.7, 0.8], 0.81)}
    rear = _rear()
    rows = report.comparison_rows(rear, fits, "no: reason", TREND, "all", LABELS, EQUIL)
    diffs = report.differences(rear, fits, LABELS, EQUIL, FACTS)
    res = report.results_dict("quick", rear, fits, "no: reason", TREND, "all", LABELS, EQUIL,
                              np.array([0.0, 1.0, 2.0, 3.0]), diffs, window=15.0, calibration="paper", seed=0)
    paths = report.write_report(lay, res, rows, diffs, "all temperatures", note="a note")
    assert sorted(p.name for p in lay.data.iterdir()) == ["COMPARISON.md", "results.json"]  # no temporaries
    back = json.loads(paths[0].read_text())
    assert back["fraction_above_peak"] == {"value": 0.6412, "error": 0.0312}
    assert back["onset_temperature"]["value"] == 0.81 and back["onset_temperature"]["fit"] == "all temperatures"
    assert back["onset_temperature_selective"] == {"value": None, "reason": "no: reason"}
    assert back["tau_alpha"] == {"0.600": 30.0, "0.700": 15.0, "0.800": 10.0}
    assert back["delta_E"] == [3.0, 2.0, None] and back["differences"] == diffs
    assert back["provenance"]["parameters"]["seed"] == 0
    md = paths[1].read_text()
    assert md.startswith("# quick: the paper's claims beside our numbers")
    assert "| Fig. 5(c): crossing (onset) temperature, all T | 0.801 | 0.81 [0.71, 0.91] | T = [0.6, 0.7, 0.8] |" in md
    assert "Intervals: 68 % bootstrap" in md and md.rstrip().endswith("a note")
    assert all(f"- {d}" in md for d in diffs)


def test_finite_size_table():
    def size(N, shift):
        return {"N": N, "depth": np.array([-3.0, -1.0]) + shift, "S": np.array([0.01, 0.03]), "tau_alpha": 20.0 + N / 100,
                "p_c": 0.1, "fraction_rearranging": 0.25,
                "fractions": {"fraction_above_peak": _frac(0.6, 0.1), "baseline_above_peak": _frac(0.5, 0.1)},
                "P_R": np.array([0.1, 0.4])}

    fs = {"T": 0.6, "sizes": {"paper": size(1000, 0.0), "seed": size(4000, 1.0)}, "P_R_z": np.array([0.5, -1.25])}
    lines = report.finite_size_table(fs)
    assert lines[0].endswith("N = 1000    N = 4000")
    assert lines[1].split() == ["mean", "beta", "Phi_r", "-2", "-1"]
    assert lines[5].split() == ["tau_alpha", "30", "60"]
    assert lines[-2].split()[-2:] == ["4", "4"]
    assert lines[-1].endswith("[0.5, -1.2]")


@pytest.mark.parametrize("T, expected", [(0.6, 4.0), (0.8, 4.0)])
def test_p_r_contrast(T, expected):
    assert report.p_r_contrast(_rear()["per_temperature"], T) == pytest.approx(expected)


def test_stage_outputs_feed_the_table(tmp_path):
    lay = Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f").makedirs()
    (lay.calibration).write_text(json.dumps({"r2": {"c": 0.5}}))
    out = report.stage_outputs(lay)
    assert out == {"cal": {"r2": {"c": 0.5}}, "loc": None, "life": None, "pred": None, "prop": None}
    rows = report.comparison_rows(_rear(), {"all": _fit([0.6, 0.7, 0.8], 0.81)}, None, TREND, "all", LABELS, {},
                                  "paper", 0.6, **out)
    assert rows[0][2] == "R^2(c) = 0.500" and rows[2][2] == "lifetime.json not found"


def test_two_temperatures_are_never_called_not_linear():
    fits = {"all": _fit([0.6, 0.7], 0.9, chi2=(np.nan, np.nan))}
    rear = _rear((0.6, 0.7))
    text = " ".join(report.differences(rear, fits, LABELS, EQUIL, FACTS, kind="data set"))
    assert "a line through two points cannot test linearity" in text
    assert "not linear" not in text and "consistent with a line" not in text
    assert "0.10 above the paper's 0.801" in text
    assert "fitted over the 2 temperatures of this data set" in text and "uncertainty is unknown" in text
    rows = report.comparison_rows(rear, fits, None, TREND, "all", LABELS, EQUIL, t_selective=0.6,
                                  cal={"r2": {"a": None, "b": None}, "temperatures": [0.6, 0.7]}, kind="data set")
    by_claim = {r[0]: r for r in rows}
    assert by_claim["Fig. 1: 1/S^av, Phi_q, Phi_r linear in each other"][2] == \
        "2 temperatures: a line through two points cannot test linearity"
    assert by_claim["Fig. 5(c): ln P_R linear in 1/T"][2] == \
        "2 temperatures: a line through two points cannot test linearity"
    assert "equilibration check of notebook 02" in by_claim["tau_alpha at the lowest T"][3]


def test_propensity_row_reads_the_numbers_of_propensity_json():
    from softlib.pipeline import report

    prop = {"at_tau_alpha": {"S": {"0.650": 0.31, "0.560": 0.35}, "S_cg": {"0.650": 0.4, "0.560": 0.45}},
            "ceiling": {"0.650": 0.9, "0.560": 0.92}, "n_a_particles": {"0.650": 15200, "0.560": 15200},
            "N": 1000, "n_replicas": {"0.650": 32, "0.560": 32}}
    claim, paper, ours, note = report.propensity_comparison_row(prop)
    assert ours.startswith("T = 0.65: S +0.31, S_cg +0.40 (ceiling 0.90, 15200 A particles); T = 0.56: S +0.35")
    assert "32 replicas" in note
