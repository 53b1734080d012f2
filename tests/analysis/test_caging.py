"""softlib.analysis.caging against closed forms, independent quadrature and known lines."""
import json

import numpy as np
import pytest
from scipy import integrate

from softlib.analysis import caging as cg
from softlib import ka
from softlib.io.store import write_json

X = (0.8, 0.2)


def _model_S(q, amp, s):
    """A diagonal S(q) whose caging integrand is F(q) = x_A amp exp(-q^2 / 2 s^2) exactly.

    With S_AB = 0 and S_BB = 1 only the AA term survives, C_AA (S_AA - 1) = h^2 / (1 + h)
    for S_AA = 1 + h; solving h^2 / (1 + h) = f gives h = (f + sqrt(f^2 + 4 f)) / 2.
    """
    f = amp * np.exp(-q ** 2 / (2 * s ** 2))
    h = (f + np.sqrt(f ** 2 + 4 * f)) / 2
    S = np.zeros((q.size, 2, 2))
    S[:, 0, 0] = 1 + h
    S[:, 1, 1] = 1.0
    return S


def test_caging_potential_closed_form():
    amp, s = 1.7, 2.0
    q = np.linspace(0.01, 30.0, 6000)
    S = _model_S(q, amp, s)
    dr = np.array([0.0, 0.05, 0.2, 0.5])
    # -(1/2 pi^2) x_A amp int_0^inf q^2 exp(-a q^2) dq = -(x_A amp / 2 pi^2) sqrt(pi) / (4 a^1.5)
    a = 1 / (2 * s ** 2) + dr ** 2 / 6
    exact = -X[0] * amp / (2 * np.pi ** 2) * np.sqrt(np.pi) / (4 * a ** 1.5)
    np.testing.assert_allclose(cg.caging_potential(q, S, dr, X), exact, rtol=1e-6)
    assert cg.caging_depth(q, S, X) == pytest.approx(exact[0], rel=1e-6)
    # curvature: 1/S = (1 / 6 pi^2) x_A amp int q^4 exp(-q^2 / 2 s^2) dq = ... 3 sqrt(pi) / (8 a0^2.5)
    a0 = 1 / (2 * s ** 2)
    inv_s = X[0] * amp / (6 * np.pi ** 2) * 3 * np.sqrt(np.pi) / (8 * a0 ** 2.5)
    assert cg.softness_curvature(q, S, X) == pytest.approx(inv_s, rel=1e-6)
    # the harmonic fit on a small window approaches the curvature (the potential is
    # Gaussian-like in dr, so the fitted 1/S drifts down as the window grows)
    fits = [cg.softness_fit(q, S, w, X)["inv_S"] for w in (0.01, 0.03, 0.1)]
    assert fits[0] == pytest.approx(inv_s, rel=2e-3)
    assert fits[0] > fits[1] > fits[2]


def test_caging_potential_is_zero_for_ideal_gas_and_rejects_bad_input():
    q = np.linspace(0.5, 20, 50)
    S = np.broadcast_to(np.eye(2), (50, 2, 2)).copy()
    assert cg.caging_depth(q, S) == 0.0
    with pytest.raises(ValueError, match="no minimum"):
        cg.softness_fit(q, S)
    with pytest.raises(ValueError, match="increasing"):
        cg.caging_depth(q[::-1], S)
    with pytest.raises(ValueError, match="fractions"):
        cg.caging_depth(q, S, x=(0.5, 0.6))
    with pytest.raises(ValueError, match=r"S \(nq, 2, 2\)"):
        cg.caging_depth(q, S[:, :1])


def test_hnc_cg_safe_at_vanishing_g():
    g = np.array([0.0, 1e-300, 1e-100, 1e-12, 0.5, 1.0, 2.5])
    bu = np.array([np.inf, 50.0, 5.0, 2.0, 0.3, 0.0, -1.0])
    cgv = cg.hnc_cg(g, bu)
    assert np.all(np.isfinite(cgv))
    assert cgv[0] == 0.0
    # explicit formula where it is harmless
    gg, bb = g[3:], bu[3:]
    np.testing.assert_allclose(cgv[3:], gg * (-bb + gg - 1 - np.log(gg)), rtol=1e-14)
    # g ln g -> 0: C g tends to 0 continuously
    assert abs(cg.hnc_cg(1e-12, 1.0)) < 1e-9
    # C itself would diverge (ln g), the product does not
    assert abs(cgv[1]) < 1e-295
    with pytest.raises(ValueError, match=">= 0"):
        cg.hnc_cg([-0.1], [0.0])


def _model_g(r, r0, peak, rmin):
    """A smooth rdf: zero below r0, a first peak, a minimum at rmin, then 1 + damped wave."""
    g = np.where(r > r0, 1 - np.exp(-((r - r0) / 0.05) ** 2), 0.0)
    return g * (1 + peak * np.exp(-((r - 1.05) / 0.12) ** 2) - 0.5 * np.exp(-((r - rmin) / 0.15) ** 2))


def test_integration_limits_on_known_rdf():
    r = (np.arange(400) + 0.5) * 0.01
    g = np.zeros((2, 2, r.size))
    g[0, 0] = _model_g(r, 0.85, 2.0, 1.5)
    g[0, 1] = g[1, 0] = _model_g(r + 0.2, 0.85, 2.0, 1.5)  # the same shape 0.2 closer
    g[1, 1] = 1.0
    rng = np.random.default_rng(0)
    noisy = g + rng.normal(0, 0.01, g.shape) * (g > 0)
    lim = cg.integration_limits(r, np.clip(noisy, 0, None), threshold=1e-3)
    # r_lo: g = 1 - exp(-((r - r0)/0.05)^2) (times ~1) crosses 1e-3 at r0 + 0.05 sqrt(-ln(1 - 1e-3))
    r_lo = 0.85 + 0.05 * np.sqrt(-np.log(1 - 1e-3))
    assert lim["AA"][0] == pytest.approx(r_lo, abs=0.01)
    # the minimum of the model, found on a fine grid
    rf = np.linspace(1.2, 1.8, 60001)
    rmin = rf[np.argmin(_model_g(rf, 0.85, 2.0, 1.5))]
    assert lim["AA"][1] == pytest.approx(rmin, abs=0.02)
    assert lim["AB"][1] == pytest.approx(rmin - 0.2, abs=0.02)
    with pytest.raises(ValueError, match="never"):
        cg.integration_limits(r, np.zeros_like(g))
    with pytest.raises(ValueError, match="shape|need"):
        cg.integration_limits(r, g[0])


def test_real_space_depth_against_quadrature():
    r = np.linspace(0.005, 2.995, 2991)
    gAA = _model_g(r, 0.85, 2.0, 1.5)
    gAB = _model_g(r + 0.2, 0.85, 2.5, 1.5)
    g = np.zeros((2, 2, r.size))
    g[0, 0], g[0, 1], g[1, 0], g[1, 1] = gAA, gAB, gAB, 1.0
    T = 0.6
    lim = {"AA": (0.9, 1.45), "AB": (0.7, 1.25)}

    def integrand(x, v, shift, peak):
        gv = _model_g(np.array([x + shift]), 0.85, peak, 1.5)[0]
        bu = ka.pair_potential(x, 0, v) / T
        cgv = gv * (-bu + gv - 1 - np.log(gv))
        return 4 * np.pi * x ** 2 * ka.RHO * cgv

    exact = -0.5 * (X[0] * integrate.quad(integrand, *lim["AA"], args=(0, 0.0, 2.0), limit=200)[0]
                    + np.sqrt(X[0] * X[1]) * integrate.quad(integrand, *lim["AB"], args=(1, 0.2, 2.5),
                                                            limit=200)[0])
    got = cg.real_space_depth(r, g, T, lim, X)
    assert got == pytest.approx(exact, rel=2e-5)
    # batch axes: the same value for each of a stack of identical rdfs
    np.testing.assert_allclose(cg.real_space_depth(r, np.stack([g, g]), T, lim, X), [got, got])
    with pytest.raises(ValueError, match="limits"):
        cg.real_space_depth(r, g, T, {"AA": (0.9, 1.4)}, X)
    with pytest.raises(ValueError, match="r_lo < r_hi"):
        cg.real_space_depth(r, g, T, {"AA": (1.4, 0.9), "AB": (0.7, 1.2)}, X)
    # the same validation as the local depth (one check_limits): r_lo = 0 is refused by both
    with pytest.raises(ValueError, match="0 < r_lo"):
        cg.real_space_depth(r, g, T, {"AA": (0.0, 1.4), "AB": (0.7, 1.2)}, X)
    with pytest.raises(ValueError, match="temperature"):
        cg.real_space_depth(r, g, -1.0, lim, X)
    with pytest.raises(ValueError, match="leaves the r grid"):
        cg.real_space_depth(r, g, T, {"AA": (0.9, 4.0), "AB": (0.7, 1.2)}, X)


def test_smear_rdf_matches_smeared_pair_distances():
    """Averaging Eq. 8 over particles = smearing the histogram rdf with the r'^2 / r^2 weight."""
    rng = np.random.default_rng(1)
    delta, rho_v, n_i = 0.09, 1.0, 2000
    d = rng.uniform(0.8, 2.6, 200000)  # neighbour distances of n_i particles (any distribution)
    r = (np.arange(300) + 0.5) * 0.01
    # local rdf averaged over particles, evaluated directly from the distances (Eq. 8, 3-D)
    direct = np.array([np.exp(-(x - d) ** 2 / (2 * delta ** 2)).sum() for x in r])
    direct /= np.sqrt(2 * np.pi * delta ** 2) * 4 * np.pi * r ** 2 * rho_v * n_i
    # the histogram rdf of the same distances, then smeared
    hist = np.histogram(d, bins=np.arange(301) * 0.01)[0]
    g = hist / (4 * np.pi * r ** 2 * 0.01 * rho_v * n_i)
    sm = cg.smear_rdf(np.arange(301) * 0.01, g, r, delta)
    inside = (r > 0.5) & (r < 2.6)
    np.testing.assert_allclose(sm[inside], direct[inside], rtol=5e-3, atol=2e-4)  # bin width 0.01
    # g = 1 everywhere: (1 / r^2) int r'^2 G(r - r') dr' = 1 + delta^2 / r^2 away from 0
    r2 = np.linspace(0.005, 6.0, 1200)
    h2 = r2[1] - r2[0]
    one = cg.smear_rdf(np.r_[r2 - h2 / 2, r2[-1] + h2 / 2], np.ones_like(r2), r2, delta)
    mid = (r2 > 1.0) & (r2 < 5.0)
    np.testing.assert_allclose(one[mid], 1 + delta ** 2 / r2[mid] ** 2, rtol=1e-4)
    with pytest.raises(ValueError, match="delta"):
        cg.smear_rdf(np.arange(301) * 0.01, g, r, 0.0)


def test_linear_fit_recovers_lines():
    x = np.array([-80.0, -70.0, -60.0, -55.0])
    fit = cg.linear_fit(x, 3.0 - 12.5 * x)
    assert fit["intercept"] == pytest.approx(3.0)
    assert fit["slope"] == pytest.approx(-12.5)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["slope_err"] < 1e-9
    rng = np.random.default_rng(3)
    x = np.linspace(0, 1, 40)
    y = 1.0 + 2.0 * x + rng.normal(0, 0.1, x.size)
    fit = cg.linear_fit(x, y)
    coef, cov = np.polyfit(x, y, 1, cov=True)  # an independent least-squares solver
    assert fit["slope"] == pytest.approx(coef[0])
    assert fit["slope_err"] == pytest.approx(np.sqrt(cov[0, 0]))
    assert fit["intercept_err"] == pytest.approx(np.sqrt(cov[1, 1]))
    assert abs(fit["slope"] - 2.0) < 3 * fit["slope_err"]
    # two points: the line through them, with its errors and R^2 unavailable (None)
    two = cg.linear_fit([1.0, 3.0], [2.0, 8.0])
    assert (two["slope"], two["intercept"]) == (3.0, -1.0)
    assert two["slope_err"] is None and two["intercept_err"] is None and two["r2"] is None
    with pytest.raises(ValueError, match="at least 2"):
        cg.linear_fit([1.0], [1.0])
    with pytest.raises(ValueError, match="equal"):
        cg.linear_fit([1, 1, 1], [1, 2, 3])


def _per_t():
    """Synthetic results on exact lines: 1/S = 500 - 2 Phi_q, Phi_q = -3 + 4 Phi_r."""
    out = {}
    for T, phi_r in zip((0.6, 0.7, 0.8, 1.0), (-17.0, -14.0, -12.0, -10.0)):
        phi_q = -3 + 4 * phi_r
        out[T] = {"S_av": 1 / (500 - 2 * phi_q), "Phi_q": phi_q, "Phi_r": phi_r, "Phi_r_smeared": 0.5 * phi_r,
                  "limits": {"AA": (0.9, 1.4), "AB": (0.7, 1.2)}, "fit_window": 0.03, "delta": 0.09}
    return out


def test_calibrate_builds_the_contract(tmp_path):
    cal = cg.calibrate(_per_t(), provenance={"preset": "test"})
    # 1/S = 500 - 2 Phi_q; Phi_q = -3 + 4 Phi_r  =>  1/S = 506 - 8 Phi_r (Eq. 7: c0 = a0 + a1 b0, c1 = a1 b1)
    assert (cal["a0"], cal["a1"]) == (pytest.approx(500), pytest.approx(-2))
    assert (cal["b0"], cal["b1"]) == (pytest.approx(-3), pytest.approx(4))
    assert (cal["c0"], cal["c1"]) == (pytest.approx(506), pytest.approx(-8))
    assert cal["c0"] == pytest.approx(cal["a0"] + cal["a1"] * cal["b0"])
    assert cal["smeared"]["c1"] == pytest.approx(-16)
    assert cal["temperatures"] == [0.6, 0.7, 0.8, 1.0]
    assert set(cal["per_temperature"]) == {"0.600", "0.700", "0.800", "1.000"}
    assert cal["per_temperature"]["0.600"]["limits"]["AA"] == [0.9, 1.4]
    assert all(v == pytest.approx(1) for v in cal["r2"].values())
    path = tmp_path / "calibration.json"
    write_json(path, cal)
    back = cg.load_calibration(path)
    assert back["c1"] == pytest.approx(-8)
    assert set(cg.CALIBRATION_KEYS) <= set(back)


def test_calibration_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="02_calibrate"):
        cg.load_calibration(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"c0": 1.0}))
    with pytest.raises(ValueError, match="lacks"):
        cg.load_calibration(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(ValueError, match="JSON"):
        cg.load_calibration(tmp_path / "junk.json")
    per_t = _per_t()
    with pytest.raises(ValueError, match="at least 3"):
        cg.calibrate({0.6: per_t[0.6]})
    del per_t[0.6]["Phi_r"]
    with pytest.raises(ValueError, match="lack"):
        cg.calibrate(per_t)
