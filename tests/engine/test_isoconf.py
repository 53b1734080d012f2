"""The iso-configurational runner: its grid, its velocities, resume, and the two engines against each other."""
import numpy as np
import pytest

from softlib.engine import isoconf
from softlib.engine.start import remove_overlaps

import helpers


@pytest.fixture(scope="module")
def start():
    x, s, box = helpers.ka_fluid(200, 7)
    return remove_overlaps(x, s, box), s, box


def _plan(**kw):
    base = dict(T=0.8, N=200, n_configurations=2, n_replicas=4, t_max=0.5, tau_alpha=0.3,
                spacing=0.25, t_first=0.01, per_decade=4, seed=5)
    return isoconf.EnsemblePlan(**(base | kw))


def test_time_grid_contains_tau_alpha_and_ends_at_t_max():
    steps = isoconf.time_grid(100.0, 0.0025, 26.1, t_first=0.05, per_decade=8)
    assert steps[0] == 20 and steps[-1] == 40000
    assert 10440 in steps                    # round(26.1 / 0.0025)
    assert np.all(np.diff(steps) > 0)
    # 8 points per decade from 0.05 up to 88.9 (j = 0..26: 27 points below 100), tau_alpha, t_max
    assert len(steps) == 29


def test_replica_velocities_are_reproducible_thermal_and_distinct():
    p = _plan()
    v1, v2 = isoconf.replica_velocities(p, 0, 1), isoconf.replica_velocities(p, 0, 1)
    assert np.array_equal(v1, v2)
    assert not np.allclose(v1, isoconf.replica_velocities(p, 0, 2))
    assert np.allclose(v1.mean(0), 0, atol=1e-12)
    assert (v1 ** 2).sum() / (3 * p.N - 3) == pytest.approx(p.T, rel=1e-12)


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match="grid must contain tau_alpha"):
        _plan(tau_alpha=1.0).check()
    with pytest.raises(ValueError, match="n_replicas must be >= 2"):
        _plan(n_replicas=1).check()
    with pytest.raises(ValueError, match="whole number of timesteps"):
        _plan(t_max=0.5001).check()


def _ensemble(tmp, start, callback=None):
    p = _plan()
    conf = isoconf.starting_configurations(p, *start)
    return isoconf.run_ensemble(p, tmp, conf, progress=False, callback=callback, say=lambda *_: None)


def test_interrupted_ensemble_resumes_bit_identically(tmp_path, start):
    full = _ensemble(tmp_path / "full", start)
    done = []

    def stop(k, m):
        done.append((k, m))
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _ensemble(tmp_path / "cut", start, callback=stop)
    assert len(list((tmp_path / "cut" / "replicas").glob("*.npz"))) == 3
    assert not (tmp_path / "cut" / "propensity.npz").exists()
    resumed = _ensemble(tmp_path / "cut", start)
    for key in ("mean_abs", "mean_sq", "half_abs", "positions"):
        assert np.array_equal(full[key], resumed[key]), key


def test_propensity_is_the_mean_over_replicas_of_the_displacement(tmp_path, start):
    """Independent reference: rerun every replica of one configuration by hand with the same velocities."""
    p = _plan()
    out = _ensemble(tmp_path, start)
    x0 = out["positions"][1]
    by_hand = [isoconf.numba_replica(x0, isoconf.replica_velocities(p, 1, m), start[1], start[2], p.T,
                                     p.dt, p.steps) for m in range(p.n_replicas)]
    np.testing.assert_allclose(out["mean_abs"][1], np.mean(by_hand, axis=0), rtol=1e-6, atol=1e-7)
    for h in (0, 1):  # even and odd replicas
        np.testing.assert_allclose(out["half_abs"][h, 1], np.mean(by_hand[h::2], axis=0), rtol=1e-6,
                                   atol=1e-7)
    # the starting configurations: the first is the given frame, the next one moved on
    np.testing.assert_array_equal(out["positions"][0], start[0])
    assert np.abs(out["positions"][1] - start[0]).max() > 0.01


def test_a_folder_of_another_plan_is_refused(tmp_path, start):
    _ensemble(tmp_path, start)
    with pytest.raises(ValueError, match="another plan"):
        isoconf.run_ensemble(_plan(T=0.9), tmp_path, progress=False, say=lambda *_: None)


def test_numba_and_lammps_replicas_agree_at_short_times(start, lammps_module):
    """Same positions, velocities, thermostat: the trajectories agree until chaos separates them."""
    p = _plan()
    x, s, box = start
    v = isoconf.replica_velocities(p, 0, 0)
    steps = np.array([1, 10, 40, 100])
    a = isoconf.numba_replica(x, v, s, box, p.T, p.dt, steps)
    b = isoconf.lammps_replica(x, v, s, box, p.T, p.dt, steps)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_shares_of_a_job_array_add_up_to_the_whole_ensemble(tmp_path, start):
    """Configurations run as separate jobs (``only``) give the ensemble of one run; the last share collects."""
    p = _plan()
    conf = isoconf.starting_configurations(p, *start)
    whole = isoconf.run_ensemble(p, tmp_path / "one", conf, progress=False, say=lambda *_: None)
    assert isoconf.run_ensemble(p, tmp_path / "arr", conf, progress=False, say=lambda *_: None, only=[1]) is None
    shared = isoconf.run_ensemble(p, tmp_path / "arr", progress=False, say=lambda *_: None, only=[0])
    assert np.array_equal(whole["mean_abs"], shared["mean_abs"])
    with pytest.raises(ValueError, match="numbered 0 .. 1"):
        isoconf.run_ensemble(p, tmp_path / "arr", progress=False, say=lambda *_: None, only=[2])
