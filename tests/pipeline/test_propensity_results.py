"""Notebook 08's steps on a synthetic ensemble whose answer is known."""
import json

import numpy as np
import pytest

from softlib.engine.isoconf import EnsemblePlan
from softlib.pipeline import propensity_results as pres

import helpers


def _synthetic(rng):
    """K = 2 frames of a KA-like fluid; propensity = a known field + replica noise on two halves."""
    plan = EnsemblePlan(T=0.8, N=300, n_configurations=2, n_replicas=4, t_max=1.0, tau_alpha=0.5, spacing=0.5,
                        t_first=0.1, per_decade=4)
    steps = plan.steps
    frames = [helpers.ka_fluid(300, s) for s in (1, 2)]
    pos = np.array([f[0] for f in frames])
    species, box = frames[0][1], frames[0][2]
    a = np.flatnonzero(species == 0)
    S = rng.normal(size=(2, a.size))
    truth = np.zeros((2, len(steps), 300))
    truth[:, :, a] = 1.0 + 0.1 * S[:, None, :]
    half = truth[None] + 0.05 * rng.normal(size=(2,) + truth.shape)
    data = {"times": steps * plan.dt, "steps": steps, "mean_abs": half.mean(0), "half_abs": half,
            "positions": pos, "box": box}
    values = {"S": S, "epot": -S + 0.01 * rng.normal(size=S.shape), "a_index": a}
    return data, plan, values


def test_analyse_finds_the_planted_correlation_and_the_json_has_the_promised_keys(rng):
    data, plan, values = _synthetic(rng)
    r = pres.analyse(data, plan, values, lengths=(0.5, 1.0))
    assert r["times"][r["i_tau"]] == pytest.approx(plan.tau_alpha)
    # noise 0.05 / sqrt(2) on a signal of spread 0.1: r = 1 / sqrt(1 + 0.125) = 0.943
    assert r["corr"]["S"]["pearson"][r["i_tau"]] == pytest.approx(0.943, abs=0.02)
    assert r["corr"]["epot"]["pearson"][r["i_tau"]] < -0.9
    # coarse-graining an uncorrelated random field only blurs it
    assert r["corr"]["S_cg"]["pearson"][r["i_tau"]] < r["corr"]["S"]["pearson"][r["i_tau"]]
    # the ceiling: halves of noise 0.05 each around the same field: r_half = 1 / (1 + 0.25) = 0.8
    assert r["ceiling"]["halves"][r["i_tau"]] == pytest.approx(0.8, abs=0.03)
    rows = pres.table_rows({0.8: r})
    assert rows[0]["n_a"] == values["S"].size
    out = pres.propensity_result("quick", {0.8: r}, {0.8: plan}, {})
    for key in ("temperatures", "tau_alpha", "times", "pearson", "at_tau_alpha", "ceiling", "n_configurations",
                "n_replicas", "provenance"):
        assert key in out
    assert set(out["pearson"]) >= {"S", "S_cg", "epot"}
    assert len(out["pearson"]["S"]["0.800"]) == len(plan.steps)
    json.dumps(out, allow_nan=False)  # strict JSON


def test_incomplete_ensembles_are_named_and_none_is_an_error(tmp_path):
    from softlib.pipeline.layout import Layout

    lay = Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    (lay.ensemble(0.8) / "replicas").mkdir(parents=True)
    said = []
    with pytest.raises(FileNotFoundError, match="make PRESET=quick ensembles"):
        pres.complete_temperatures(lay, [0.8], say=said.append)
    assert "0 replicas written" in said[0]


def test_the_published_tau_alpha_is_read_on_our_grid_only_where_it_reaches():
    r = {"times": np.array([1.0, 8.0, 16.0, 22.6]), "corr": {"S": {"pearson": np.array([0.1, 0.2, 0.3, 0.4])}}}
    # 0.65 is nearest to the published 0.64 (tau 16.5): the grid point 16.0 is read
    assert pres.at_published_tau_alpha({0.65: r}) == [(0.65, 0.64, 16.5, 16.0, {"S": 0.3})]
    # at 0.56 their tau_alpha (52) lies beyond this grid: no row
    assert pres.at_published_tau_alpha({0.56: r}) == []


def test_a_trend_on_cooling_must_exceed_the_errors():
    def row(T, v, e):
        return {"T": T, "pearson": {"S": v}, "error": {"S": e}}

    assert pres.grows_on_cooling([row(0.65, 0.182, 0.012), row(0.56, 0.183, 0.010)], "S") == 0
    assert pres.grows_on_cooling([row(0.65, 0.18, 0.01), row(0.56, 0.25, 0.01)], "S") == 1
    assert pres.grows_on_cooling([row(0.65, 0.31, 0.01), row(0.56, 0.25, 0.01), row(0.5, 0.2, 0.01)], "S") == -1

    assert pres.grows_on_cooling([row(0.65, 0.18, 0.01), row(0.5, 0.3, float("nan"))], "S") is None
