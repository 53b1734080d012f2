"""softlib.analysis.predictors: structure functions, baselines, training examples and metrics, each against
an independent reference."""
import numpy as np
import pytest
from scipy.stats import mannwhitneyu
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from softlib import ka
from softlib.analysis import predictors as pr
from softlib.analysis.dynamics import rearrangement_events


def _liquid(n=80, L=7.0, seed=0):
    """Random points kept >= 0.7 apart (no huge LJ energies), 80:20 species."""
    rng = np.random.default_rng(seed)
    pts = []
    while len(pts) < n:
        p = rng.random(3) * L
        if all(np.linalg.norm((p - q) - L * np.rint((p - q) / L)) > 0.7 for q in pts):
            pts.append(p)
    sp = np.zeros(n, dtype=int)
    sp[: n // 5] = 1
    return np.array(pts), rng.permutation(sp), np.full(3, L)


def _plain_structure(pos, sp, box, centers, mu, L):
    """Double loop, minimum image (valid when mu_max + 6 L < box / 2)."""
    out = np.zeros((len(centers), 2, mu.size))
    for a, i in enumerate(centers):
        for j in range(len(pos)):
            if j == i:
                continue
            d = pos[j] - pos[i]
            d -= box * np.rint(d / box)
            r = np.sqrt(d @ d)
            for k, m in enumerate(mu):
                if abs(r - m) <= 6 * L:
                    out[a, sp[j], k] += np.exp(-((r - m) ** 2) / (2 * L * L))
    return out


def test_structure_functions_against_plain_double_loop():
    pos, sp, box = _liquid(n=60, L=12.0)
    mu = np.arange(0.4, 4.0 + 1e-9, 0.1)
    c = np.flatnonzero(sp == 0)[:10]
    got = pr.frame_features(pos, sp, box, c, mu=mu)["G"]
    ref = _plain_structure(pos, sp, box, c, mu, 0.1)
    assert got.max() > 0.5
    np.testing.assert_allclose(got, ref, atol=1e-9, rtol=1e-9)


def test_structure_functions_count_periodic_images():
    # box smaller than 2 (mu_max + 6 L): compare with a 3x3x3 supercell where the minimum image suffices
    pos, sp, box = _liquid(n=40, L=5.0, seed=3)
    mu = pr.MU_DEFAULT
    c = np.flatnonzero(sp == 0)[:5]
    got = pr.frame_features(pos, sp, box, c, mu=mu)["G"]
    shifts = np.array([[i, j, k] for i in range(3) for j in range(3) for k in range(3)]) * box
    big = (pos[None] + shifts[:, None]).reshape(-1, 3)
    sp_big = np.tile(sp, 27)
    ref = _plain_structure(big, sp_big, 3 * box, c, mu, 0.1)
    # a pair exactly 6 L from a shell may fall on either side of the cut (exp(-18) ~ 1.5e-8 each)
    np.testing.assert_allclose(got, ref, atol=1e-6, rtol=1e-9)
    np.testing.assert_allclose(pr.structure_functions_numpy(pos, sp, box, c, mu), ref, atol=1e-6, rtol=1e-9)
    # without the images the outer shells would miss most neighbours
    assert np.abs(got - _plain_structure(pos, sp, box, c, mu, 0.1)).max() > 1.0


def test_potential_energy_and_coordination_brute_force():
    pos, sp, box = _liquid(n=70, L=6.0, seed=5)
    limits = {"AA": (0.9, 1.43), "AB": (0.75, 1.26)}
    c = np.arange(len(pos))  # every particle, so the energies must add up to the total
    ff = pr.frame_features(pos, sp, box, c, limits)
    e = np.zeros(len(pos))
    cnt = np.zeros((len(pos), 2), int)
    lo, hi = [0.9, 0.75], [1.43, 1.26]
    for i in range(len(pos)):
        for j in range(len(pos)):
            if i == j:
                continue
            d = pos[j] - pos[i]
            d -= box * np.rint(d / box)  # 2.5 sigma < box / 2: the minimum image suffices
            r = np.linalg.norm(d)
            e[i] += 0.5 * float(ka.pair_potential(r, sp[i], sp[j]))
            if lo[sp[j]] <= r <= hi[sp[j]]:
                cnt[i, sp[j]] += 1
    np.testing.assert_allclose(ff["epot"], e, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(ff["count"], cnt)
    assert cnt.sum() > 0


def test_voronoi_volumes_fill_the_box():
    pos, sp, box = _liquid(n=50, L=6.0, seed=7)
    v = pr.voronoi_volumes(pos, box)
    assert v.shape == (50,) and np.all(v > 0)
    assert v.sum() == pytest.approx(np.prod(box), rel=1e-8)
    g = np.arange(4) + 0.5  # simple cubic lattice of spacing 1: every cell is a unit cube
    lat = np.array(np.meshgrid(g, g, g)).reshape(3, -1).T
    np.testing.assert_allclose(pr.voronoi_volumes(lat, np.full(3, 4.0)), 1.0, rtol=1e-6)


def test_auc_against_sklearn_and_mann_whitney():
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(300, int), np.zeros(500, int)]
    s = rng.normal(size=800) + 0.8 * y
    s[:50] = np.round(s[:50], 1)  # ties
    a = pr.roc_auc(s, y)
    assert a == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    u = mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert a == pytest.approx(u / (300 * 500), abs=1e-12)
    assert pr.roc_auc(-s, y) == pytest.approx(1 - a, abs=1e-12)
    assert np.isnan(pr.roc_auc(s[:10], np.ones(10)))


def test_balanced_accuracy_by_hand():
    y = np.array([1, 1, 1, 1, 0, 0])
    p = np.array([1, 1, 1, 0, 0, 1])
    # TPR = 3/4, TNR = 1/2
    assert pr.balanced_accuracy(p, y) == pytest.approx(0.625)
    assert pr.balanced_accuracy(p, y) == pytest.approx(balanced_accuracy_score(y, p))
    with pytest.raises(ValueError, match="both classes"):
        pr.balanced_accuracy(p, np.ones(6))


def test_best_threshold_and_orientation():
    s = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    t = pr.best_threshold(s, y)
    assert 0.3 < t < 0.7
    m = pr.classification_metrics(-s, y, -s, y, n_boot=20)  # a predictor that points the other way
    assert m["sign"] == -1 and m["auc"] == 1.0 and m["balanced_accuracy"] == 1.0


def test_metrics_errors_shrink_with_more_examples():
    rng = np.random.default_rng(2)
    errs = []
    for n in (50, 2000):
        y = np.r_[np.ones(n, int), np.zeros(n, int)]
        s = rng.normal(size=2 * n) + y
        errs.append(pr.classification_metrics(s, y, s, y, n_boot=100)["auc_error"])
    assert errs[1] < 0.4 * errs[0]


def _synthetic_phop(F=400, N=30, seed=4):
    rng = np.random.default_rng(seed)
    p = rng.random((F, N)) * 0.05
    for i in range(N):
        for f0 in rng.choice(np.arange(20, F - 20), 3, replace=False):
            p[f0:f0 + 4, i] = 1.0  # an event of 4 frames
    p[:10], p[-10:] = np.nan, np.nan
    return p


def test_training_examples_definition():
    p = _synthetic_phop()
    h, p_c, tol, hw = 10, 0.5, 3, 6
    ev = rearrangement_events(p, p_c)
    grid = np.arange(0, 400, 2)
    ex = pr.training_examples(p, p_c, ev, grid, h, hw, tol)
    frames = grid[ex["frame"]]
    assert set(np.unique(ex["label"])) == {0, 1}
    # example frames are spaced by at least the p_hop window (2 h)
    uf = np.unique(frames)
    assert np.all(np.diff(uf) >= 2 * h)
    for f, i, lab in zip(frames, ex["particle"], ex["label"]):
        if lab == 1:  # an event of particle i starts within [f, f + tol)
            starts = ev["first"][ev["particle"] == i]
            assert np.any((starts >= f) & (starts < f + tol))
        else:  # p_hop stays below p_c over the window around f
            w = p[f - hw:f + hw + 1, i]
            assert np.all(np.isfinite(w)) and np.all(w <= p_c)
    keep = pr.balance(ex["label"], np.random.default_rng(0))
    assert (ex["label"][keep] == 1).sum() == (ex["label"][keep] == 0).sum() > 0


def test_decile_contrast():
    c, e = pr.decile_contrast([0.1, 0.2, 0.4], [0.01, 0.01, 0.02])
    assert c == pytest.approx(4.0)
    assert e == pytest.approx(4.0 * np.hypot(0.05, 0.1))
    assert np.isnan(pr.decile_contrast([0.0, 0.3], [0.1, 0.1])[0])
    e = pr.decile_edges(np.r_[np.arange(100.0), np.nan])
    assert e.size == 11 and e[-1] > 99


def test_svm_learns_a_separable_rule():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(400, 6))
    y = (X[:, 2] - 0.5 * X[:, 4] > 0).astype(int)
    svm = pr.fit_svm(X, y, Cs=(0.01, 1.0), cv=3)
    s = svm["model"].decision_function(X)
    assert pr.roc_auc(s, y) > 0.98
    w = svm["weights"]
    assert np.argmax(np.abs(w)) == 2 and w[2] > 0 and w[4] < 0
    with pytest.raises(ValueError, match="at least 2 examples"):
        pr.fit_svm(X[:3], np.array([1, 0, 0]))


def test_bootstrap_over_frames_sees_correlated_examples():
    # 20 frames of 40 examples each; every frame shifts all its scores together (frame-level noise), so
    # the examples of a frame are not independent: resampling frames must give a clearly larger error
    rng = np.random.default_rng(11)
    frames = np.repeat(np.arange(20), 40)
    y = np.tile(np.r_[np.ones(20, int), np.zeros(20, int)], 20)
    shift = rng.normal(scale=1.5, size=20)[frames] * (2 * y - 1)  # soft and hard pulled apart per frame
    s = rng.normal(size=y.size) + 0.5 * y + shift
    flat = pr.classification_metrics(s, y, s, y, n_boot=200, seed=1)
    grouped = pr.classification_metrics(s, y, s, y, n_boot=200, seed=1, test_groups=frames)
    assert grouped["auc"] == flat["auc"]
    assert grouped["auc_error"] > 2.0 * flat["auc_error"]
    with pytest.raises(ValueError, match="one entry per test example"):
        pr.classification_metrics(s, y, s, y, n_boot=5, test_groups=frames[:-1])


def test_svm_grouped_folds_keep_frames_together(monkeypatch):
    from sklearn import model_selection

    seen = []
    real = model_selection.StratifiedGroupKFold.split

    def spy(self, X, y=None, groups=None):
        for tr, va in real(self, X, y, groups):
            seen.append((set(groups[tr]), set(groups[va])))
            yield tr, va

    monkeypatch.setattr(model_selection.StratifiedGroupKFold, "split", spy)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int)
    groups = np.repeat(np.arange(30), 10)
    pr.fit_svm(X, y, Cs=(0.1,), cv=3, groups=groups)
    assert seen and all(not (a & b) for a, b in seen)
