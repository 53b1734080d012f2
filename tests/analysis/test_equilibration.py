"""Equilibration checks on synthetic series with known answers."""
import numpy as np
import pytest

from softlib.analysis import equilibration as eq


def test_block_averages():
    x = np.arange(10.0)
    np.testing.assert_allclose(eq.block_averages(x, 5), [0.5, 2.5, 4.5, 6.5, 8.5])
    with pytest.raises(ValueError, match="blocks"):
        eq.block_averages(x, 6)


def test_energy_drift_sees_a_trend_and_rarely_flags_noise():
    t = np.linspace(0, 1000, 5000)
    flagged = 0
    for seed in range(300):
        noise = np.random.default_rng(seed).normal(scale=0.01, size=t.size)
        flagged += eq.energy_drift(t, -6.5 + noise)["drifting"]
    # nominal false-alarm rate 0.27 %: allow statistical room, but a normal 3-sigma cut on
    # 8 degrees of freedom (about 1.7 %) would also pass 5 / 300, so check the threshold too
    assert flagged <= 5
    assert eq.energy_drift(t, -6.5 + t * 0)["z_max"] == pytest.approx(4.3, abs=0.1)
    noise = np.random.default_rng(1).normal(scale=0.01, size=t.size)
    trend = eq.energy_drift(t, -6.5 + 2e-5 * t + noise)  # total change 0.02 = 2 x the noise
    assert trend["drifting"]
    assert trend["slope"] == pytest.approx(2e-5, rel=0.2)


def test_compare_uses_student_t_for_few_blocks():
    # 0.5 apart with combined error 0.14 (3.5 sigma): rejected with a normal cut, accepted
    # when the errors come from few blocks (t with 6 dof: 99.73 % quantile ~ 4.9)
    assert not eq.compare(1.0, 0.1, 1.5, 0.1)["agree"]
    c = eq.compare(1.0, 0.1, 1.5, 0.1, dof=6)
    assert c["agree"] and c["threshold_sigma"] == pytest.approx(4.90, abs=0.02)
    # many degrees of freedom recover the normal threshold
    assert eq.compare(1.0, 0.1, 1.5, 0.1, dof=10_000)["threshold_sigma"] == pytest.approx(3.0, abs=0.01)
