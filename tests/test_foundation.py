"""Model constants, input validation, frame schedules, GSD format, presets, provenance."""
import json

import gsd.hoomd
import numpy as np
import pytest

from softlib import _checks, ka
from softlib.io import gsd as gsdio, store as provenance
from softlib.pipeline import presets
from softlib.engine import schedule


# ------------------------------------------------------------------ model (Eq. 1)
def test_pair_potential_is_zero_at_cutoff_and_minimum_at_two_to_the_sixth():
    for u, v in [(0, 0), (0, 1), (1, 1)]:
        sig, eps, rc = ka.SIGMA[u, v], ka.EPSILON[u, v], 2.5 * ka.SIGMA[u, v]
        assert ka.pair_potential(rc * (1 - 1e-12), u, v) == pytest.approx(0.0, abs=1e-9)
        assert ka.pair_potential(rc * 1.001, u, v) == 0.0
        rmin = 2 ** (1 / 6) * sig
        # unshifted LJ minimum is -eps; the shift adds -U_LJ(rc) = +4 eps (0.4^6 - 0.4^12)
        shift = 4 * eps * ((1 / 2.5) ** 12 - (1 / 2.5) ** 6)
        assert ka.pair_potential(rmin, u, v) == pytest.approx(-eps - shift, rel=1e-12)
        assert ka.pair_force(rmin, u, v) == pytest.approx(0.0, abs=1e-12)


def test_pair_force_is_minus_derivative_of_potential():
    r = np.linspace(0.75, 2.4, 50)
    h = 1e-6
    for u, v in [(0, 0), (0, 1), (1, 1)]:
        inside = r < ka.RCUT[u, v] - 2 * h
        fd = -(ka.pair_potential(r + h, u, v) - ka.pair_potential(r - h, u, v)) / (2 * h)
        np.testing.assert_allclose(ka.pair_force(r, u, v)[inside], fd[inside], rtol=1e-6, atol=1e-8)


def test_ka_parameters_are_the_published_ones():
    assert ka.EPSILON.tolist() == [[1.0, 1.5], [1.5, 0.5]]
    assert ka.SIGMA.tolist() == [[1.0, 0.8], [0.8, 0.88]]
    s = ka.composition(1000)
    assert (s == 0).sum() == 800 and (s == 1).sum() == 200
    assert ka.box_length(1000) ** 3 * 1.2 == pytest.approx(1000)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("box", [0.0, -1.0, [1.0, 2.0], [1.0, np.nan, 1.0]])
def test_bad_box(box):
    with pytest.raises(ValueError, match="box"):
        _checks.as_box(box)


def test_bad_positions_and_species():
    with pytest.raises(ValueError, match="NaN"):
        _checks.as_positions(np.array([[0.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="shape"):
        _checks.as_positions(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="unknown species"):
        _checks.as_species([0, 1, 2])
    with pytest.raises(ValueError, match="entries"):
        _checks.as_species([0, 1], n=3)
    with pytest.raises(ValueError, match="temperature"):
        _checks.as_temperature(0.0)
    with pytest.raises(ValueError, match="twice the cutoff"):
        _checks.check_box_cutoff(4.9, 2.5)


# ------------------------------------------------------------------ schedules
def test_linear_schedule_is_uniform_and_covers_production():
    steps = schedule.linear_steps(10.0, 0.1, 0.0025)
    assert steps[0] == 0 and steps[-1] == 4000
    assert np.all(np.diff(steps) == 40)


def test_log_schedule_blocks_restart_and_grow_geometrically():
    offs = schedule.log_offsets(10.0, 0.01, 8, 0.0025)
    assert offs[0] == 0 and np.all(np.diff(offs) > 0) and offs[-1] < 4000
    t = offs[1:] * 0.0025
    # about 8 frames per decade between 0.01 and 10
    assert 20 <= len(t) <= 26
    steps = schedule.log_steps(30.0, 10.0, 0.01, 8, 0.0025)
    for start in (0, 4000, 8000):
        assert np.all(np.isin(start + offs, steps))
    assert steps[-1] == 12000


def test_schedule_rejects_times_off_the_step_grid():
    with pytest.raises(ValueError, match="timesteps"):
        schedule.linear_steps(10.001, 0.1, 0.0025)


# ------------------------------------------------------------------ GSD format
def test_gsd_roundtrip_recovers_unwrapped_positions(tmp_path):
    rng = np.random.default_rng(1)
    box = np.array([5.0, 6.0, 7.0])
    species = np.array([0, 0, 1, 1, 0], dtype=np.int32)
    path = tmp_path / "t.gsd"
    traj = np.cumsum(rng.normal(scale=2.0, size=(6, 5, 3)), axis=0)  # crosses the box many times
    with gsdio.GSDWriter(path, species, box) as w:
        for k, x in enumerate(traj):
            w.append(step=100 * k, time=0.25 * k, positions_unwrapped=x)
    with gsd.hoomd.open(path) as f:
        assert len(f) == 6
        for k, fr in enumerate(f):
            assert fr.particles.types == ["A", "B"]
            assert np.all(np.abs(fr.particles.position) <= box / 2 + 1e-6)
            x = fr.particles.position.astype(float) + fr.particles.image * box
            np.testing.assert_allclose(x, traj[k], atol=1e-5)
            assert fr.log[gsdio.TIME_KEY][0] == pytest.approx(0.25 * k)
            assert fr.configuration.step == 100 * k
    # resume: frames after step 250 are dropped, appending continues the file
    assert gsdio.truncate_after(path, 250) == 3
    with gsdio.GSDWriter(path, species, box) as w:
        assert w.last_step() == 200
        w.append(step=300, time=0.75, positions_unwrapped=traj[3])
    with gsd.hoomd.open(path) as f:
        assert [fr.configuration.step for fr in f] == [0, 100, 200, 300]


# ------------------------------------------------------------------ presets
def test_presets_follow_methods_table():
    q, p, s = (presets.get_preset(n) for n in ("quick", "paper", "seed"))
    assert q.N == 500 and q.temperatures == (0.60, 0.70, 0.80, 1.00)
    assert p.N == 1000 and min(p.temperatures) == 0.47 and max(p.temperatures) == 0.80
    assert s.N == 4000
    assert all(p.samples(T) >= 2 for T in p.temperatures if T <= 0.50)
    assert [pl.tag for pl in p.plans()] == presets.run_tags("paper")
    for pl in p.plans():
        # production covers many relaxation times and fits the frame grids
        assert pl.t_production >= 10 * presets.tau_guess(pl.T)
        schedule.plan_steps(pl)
    with pytest.raises(ValueError, match="unknown preset"):
        presets.get_preset("huge")


def test_tau_guess_is_monotonic_in_temperature():
    Ts = np.linspace(0.46, 1.0, 30)
    taus = [presets.tau_guess(T) for T in Ts]
    assert np.all(np.diff(taus) < 0)


# ------------------------------------------------------------------ provenance
def test_write_json_is_atomic_and_carries_provenance(tmp_path):
    out = tmp_path / "a" / "b.json"
    provenance.write_json(out, {"x": np.arange(3), "p": provenance.provenance(T=0.5)})
    data = json.loads(out.read_text())
    assert data["x"] == [0, 1, 2]
    assert data["p"]["parameters"] == {"T": 0.5}
    assert "numpy" in data["p"]["versions"] and data["p"]["git_revision"]
    assert not list(out.parent.glob("*.tmp"))


def test_atomic_write_gives_ordinary_permissions(tmp_path):
    import os
    import stat

    out = tmp_path / "c.json"
    provenance.write_json(out, {"a": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
