"""softlib.pipeline.predictors_stage: events on the feature grid, train/test splits, shoulders, the report row."""
import numpy as np
import pytest

from softlib.pipeline import predictors_stage as ps, report


def test_grid_events_read_before_the_jump():
    events = {"first": np.array([5, 12, 13, 20, 31]), "particle": np.array([0, 1, 2, 3, 4])}
    grid = np.array([10, 20, 30])
    g, p = ps.grid_events(events, grid, h=8, tolerance=3)
    # 5: censored (<= h); 12 -> grid 10; 13 -> too late after 10; 20 -> grid 20; 31 -> grid 30
    assert g.tolist() == [0, 1, 2] and p.tolist() == [1, 3, 4]


def _run(slots, labels, frames):
    return {"examples": {"slot": np.asarray(slots), "label": np.asarray(labels), "frame": np.asarray(frames),
                         "particle": np.arange(len(slots))}}


def test_split_one_sample_alternates_frames_and_balances():
    slots = np.repeat(np.arange(6), 10)
    labels = np.tile([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], 6)
    runs = [_run(slots, labels, slots)]
    sets = ps._split(runs, np.random.default_rng(0))
    tr, te = sets["train"], sets["test"]
    f_tr = set(runs[0]["examples"]["frame"][tr[1]])
    f_te = set(runs[0]["examples"]["frame"][te[1]])
    assert f_tr and f_te and not (f_tr & f_te)
    for _, _, lab in (tr, te):
        assert (lab == 1).sum() == (lab == 0).sum() == 9


def test_split_two_samples_train_on_first():
    a = _run([0, 0, 1, 1], [1, 0, 1, 0], [0, 0, 1, 1])
    b = _run([0, 0], [1, 0], [0, 0])
    sets = ps._split([a, b], np.random.default_rng(0))
    assert set(sets["train"][0]) == {0} and set(sets["test"][0]) == {1}


def test_shoulders_decompose_a_mixture():
    rng = np.random.default_rng(3)
    n = rng.choice([12, 13, 14], size=(200, 50), p=[0.2, 0.5, 0.3])
    S = 0.002 - 1e-4 * n + rng.normal(0, 1e-5, n.shape)
    run = {"values": {"S": S, "coordination": n.astype(float)},
           "events": (rng.integers(0, 200, 300), rng.integers(0, 50, 300))}
    sh = ps.shoulders([run], n_bins=40)
    assert set(sh["by_n"]) == {12, 13, 14}
    assert sh["by_n"][13]["weight"] == pytest.approx(0.5, abs=0.02)
    assert sh["by_n"][12]["mean_S"] > sh["by_n"][14]["mean_S"]
    total = sum(b["P"] for b in sh["by_n"].values())
    np.testing.assert_allclose(total, sh["P_S"], atol=1e-9 * sh["P_S"].max())


def test_comparison_row():
    m = {"auc": 0.7, "auc_error": 0.02, "balanced_accuracy": 0.65, "balanced_accuracy_error": 0.02,
         "fraction_above_peak": 0.6, "fraction_above_peak_error": 0.02, "baseline_above_peak": 0.5,
         "baseline_above_peak_error": 0.01}
    row = report.predictors_comparison_row({"temperatures": [0.47], "predictors": {"S": {"0.470": m},
                                                                                   "S_ML": {"0.470": m}}})
    assert len(row) == 4 and "75 %" in row[1] and "AUC 0.7" in row[2]
    assert row[2].count("AUC") == 2 and "balanced accuracy 65 %" in row[2] and "above peak 60 %" in row[2]
    row = report.predictors_comparison_row({"temperatures": [0.47], "predictors": {}})
    assert row[2] == "no metrics"


def test_run_data_labels_with_its_own_window():
    # one particle jumps once by 1 sigma at t = 50 (frames 0.1 apart); its event starts up to half the label
    # window before the jump, and example frames are a window apart: with a 3-tau label window the structure
    # is read less than 3 tau before the jump, with notebook 05's 15-tau window much earlier
    F, dt = 1001, 0.1
    times = np.arange(F) * dt
    L = 10.0
    pos = np.zeros((F, 2, 3))
    pos[:, 1] = [5.0, 5.0, 5.0]
    pos[500:, 0, 0] = 1.0
    species = np.array([0, 0])
    soft = {"a_index": np.array([0, 1]), "times": times, "softness": np.ones((F, 2)), "depth": -np.ones((F, 2))}
    lim = {"AA": (0.0, 1.45), "AB": (0.0, 1.25)}
    out = {}
    for lw in (None, 3.0):
        d = ps.run_data((times, species, np.full(3, L), pos), soft, p_c=0.1, tau_alpha=2.0, limits=lim,
                        window=15.0, frame_interval=0.1, max_frames=2000, soft_tolerance=15.0,
                        label_window=lw)
        ex = d["examples"]
        out[lw] = d["grid"][ex["frame"][ex["label"] == 1]]
        assert d["events"][1].tolist() == [0]  # the population events keep the 15-tau window
    assert out[None].size and out[3.0].size
    # the last frame read before the event: at most half a window (event start) plus one frame spacing (a
    # window) before the jump, 4.5 tau for the 3-tau window
    assert 500 - 45 <= out[3.0].max() < 500
    assert out[None].max() < 500 - 45


def test_read_frames_take_the_event_start():
    # particle 3 starts an event at frame 23 and particle 5 at frame 41; example frames are 20 and 40, tolerance 5
    events = {"particle": np.array([3, 5, 5]), "first": np.array([23, 41, 90]), "last": np.array([30, 45, 95])}
    grid = np.array([0, 20, 40, 60])
    ex = {"frame": np.array([1, 1, 2, 2]), "particle": np.array([3, 7, 5, 8]), "label": np.array([1, 0, 1, 0]),
          "slot": np.array([0, 0, 1, 1])}
    read = ps.read_frames(ex, events, grid, h=10, tolerance=5, soft_frames=np.arange(100))
    assert read.tolist() == [23, 20, 41, 40]  # soft at their event's first frame, hard on the example frame
    # without softness stored at frame 41 that example keeps its example frame
    read = ps.read_frames(ex, events, grid, h=10, tolerance=5, soft_frames=np.r_[np.arange(41), np.arange(42, 100)])
    assert read.tolist() == [23, 20, 40, 40]
