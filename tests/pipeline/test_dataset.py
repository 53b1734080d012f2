"""Data set files (softlib.pipeline.dataset), the density/composition check (softlib.pipeline.sources) and
the calibration through two temperatures (softlib.analysis.caging.calibrate)."""
from __future__ import annotations

import numpy as np
import pytest

from softlib.pipeline import dataset as dsm
from softlib.pipeline.sources import resolve_system, system_facts

GOOD = '''
name = "my_ka"
model = "kob-andersen"
require_equilibrated = false
[[runs]]
T = 0.60
files = ["a.lammpstrj.gz", "b.lammpstrj.gz"]
timestep = 0.0025
species = {1 = "A", 2 = "B"}
[[runs]]
T = 0.8
files = ["sub/c.gsd"]
log_files = ["sub/c_log.gsd"]
'''


def _files(d):
    for f in ("a.lammpstrj.gz", "b.lammpstrj.gz", "sub/c.gsd", "sub/c_log.gsd"):
        (d / f).parent.mkdir(parents=True, exist_ok=True)
        (d / f).write_text("x")


def _write(d, text):
    _files(d)
    p = d / "set.toml"
    p.write_text(text)
    return p


def test_good_file(tmp_path):
    ds = dsm.load_dataset(_write(tmp_path, GOOD))
    assert ds.name == "my_ka" and ds.model == "kob-andersen" and ds.require_equilibrated is False
    assert ds.temperatures == [0.6, 0.8]
    r6, r8 = ds.runs
    # paths relative to the TOML file, made absolute
    assert r6.files == ((tmp_path / "a.lammpstrj.gz").resolve(), (tmp_path / "b.lammpstrj.gz").resolve())
    assert r8.log_files == ((tmp_path / "sub/c_log.gsd").resolve(),) and r8.timestep is None
    assert r6.species == {"1": 0, "2": 1} and r6.timestep == 0.0025
    assert ds.tags == {0.6: ["T0.600_s0", "T0.600_s1"], 0.8: ["T0.800_s0"]}
    # defaults
    ds2 = dsm.load_dataset(_write(tmp_path, GOOD.replace("require_equilibrated = false\n", "")))
    assert ds2.require_equilibrated is True


@pytest.mark.parametrize("change, match", [
    (("name = \"my_ka\"", "name = \"quick\""), "name of a preset"),
    (("name = \"my_ka\"", "name = \"my ka/x\""), "folder name"),
    (("name = \"my_ka\"\n", ""), "'name' is missing"),
    (("model = \"kob-andersen\"", "model = \"lj\""), "not supported"),
    (("require_equilibrated = false", "require_equilibrated = \"no\""), "true or false"),
    (("require_equilibrated = false", "colour = 1"), r"unknown key\(s\) \['colour'\]"),
    (("T = 0.60", "T = -1"), r"\(T\) must be a positive number"),
    (("T = 0.60\n", ""), "'T' is missing"),
    (("files = [\"a.lammpstrj.gz\", \"b.lammpstrj.gz\"]", "files = [\"nope.gz\"]"), r"\(files\): no file"),
    (("files = [\"a.lammpstrj.gz\", \"b.lammpstrj.gz\"]", "files = []"), "non-empty list"),
    (("timestep = 0.0025\n", ""), r"\(timestep\) is missing: LAMMPS dumps"),
    (("timestep = 0.0025", "timestep = 0"), r"\(timestep\) must be a positive"),
    (("species = {1 = \"A\", 2 = \"B\"}", "species = {1 = \"A\", 2 = \"A\"}"), "one type to"),
    (("species = {1 = \"A\", 2 = \"B\"}", "species = {1 = \"A\", 2 = \"C\"}"), "use \"A\" or \"B\""),
    (("species = {1 = \"A\", 2 = \"B\"}", "speceis = 1"), r"unknown key\(s\) \['speceis'\]"),
    (("log_files = [\"sub/c_log.gsd\"]", "log_files = [\"sub/c_log.gsd\", \"a.lammpstrj.gz\"]"), "one log-spaced"),
    (("T = 0.8", "T = 0.6"), "more than one"),
    (("T = 0.8", "T = 0.6004"), "differ by less than 0.001"),
])
def test_each_bad_key_has_a_clear_error(tmp_path, change, match):
    with pytest.raises(dsm.DatasetError, match=match) as err:
        dsm.load_dataset(_write(tmp_path, GOOD.replace(*change)))
    assert str(tmp_path / "set.toml") in str(err.value)  # the error names the file


def test_one_temperature_and_bad_toml_and_missing_file(tmp_path):
    one = GOOD[: GOOD.index("[[runs]]\nT = 0.8")]
    with pytest.raises(dsm.DatasetError, match="needs at least two"):
        dsm.load_dataset(_write(tmp_path, one))
    with pytest.raises(dsm.DatasetError, match="not valid TOML"):
        dsm.load_dataset(_write(tmp_path, "name = "))
    with pytest.raises(dsm.DatasetError, match="no data set file"):
        dsm.load_dataset(tmp_path / "absent.toml")
    with pytest.raises(dsm.DatasetError, match="runs"):
        dsm.load_dataset(_write(tmp_path, 'name = "x"\nmodel = "kob-andersen"\nruns = 3\n'))


def test_makefile_entry_point(tmp_path, capsys):
    p = _write(tmp_path, GOOD)
    dsm.main(["name", str(p)])
    out = capsys.readouterr().out.split("\n")
    assert out[0] == "name: my_ka" and out[1].split()[1] == str(p.resolve())
    dsm.main(["name", str(tmp_path / "nope.toml")])
    assert capsys.readouterr().out.startswith("error: no data set file")


# ---------------------------------------------------------------------------- density and composition
def test_system_check_uses_the_model_or_the_data_and_refuses_mixtures(tmp_path):
    n = 500
    sp = np.r_[np.zeros(400, int), np.ones(100, int)]
    L = (n / 1.2) ** (1 / 3)
    ka = resolve_system({"a": system_facts(sp, np.float32(L)), "b": system_facts(sp, L)})
    # a KA file (float32 box): the model's exact rho and x, no note
    assert ka["model"] and ka["rho"] == 1.2 and ka["x"] == [0.8, pytest.approx(0.2)] and not ka["notes"]
    # another density: the data's value, said in a note
    L2 = (n / 1.1) ** (1 / 3)
    other = resolve_system({"a": system_facts(sp, L2)})
    assert not other["model"] and other["rho"] == pytest.approx(1.1) and "rho = N/V = 1.1" in other["notes"][0]
    # another composition: the data's x
    sp2 = np.r_[np.zeros(350, int), np.ones(150, int)]
    assert resolve_system({"a": system_facts(sp2, L)})["x"] == [0.7, pytest.approx(0.3)]
    # refused: two densities, two compositions, A in the minority, one species
    with pytest.raises(ValueError, match="different densities"):
        resolve_system({"a": system_facts(sp, L), "b": system_facts(sp, L2)})
    with pytest.raises(ValueError, match="different compositions"):
        resolve_system({"a": system_facts(sp, L), "b": system_facts(sp2, L)})
    with pytest.raises(ValueError, match=r"swap them with species = \{1 = \"B\", 2 = \"A\"\}"):
        resolve_system({"a": system_facts(1 - sp, L)})
    with pytest.raises(ValueError, match="only one species"):
        resolve_system({"a": system_facts(np.zeros(n, int), L)})


# ---------------------------------------------------------------------------- calibration through two points
def _per_t(T, S_av, Phi_q, Phi_r, Phi_sm):
    return {"S_av": S_av, "Phi_q": Phi_q, "Phi_r": Phi_r, "Phi_r_smeared": Phi_sm,
            "limits": {"AA": [0.9, 1.4], "AB": [0.8, 1.3]}, "fit_window": 0.03, "delta": 0.09}


def test_two_temperature_calibration_against_a_hand_computation():
    from softlib.analysis import caging as cg

    per_t = {0.6: _per_t(0.6, 0.004, -30.0, -12.0, -10.0), 0.8: _per_t(0.8, 0.005, -26.0, -10.0, -9.0)}
    cal = cg.calibrate(per_t)
    # by hand: 1/S = 250 and 200 at Phi_r = -12 and -10: c1 = (250 - 200) / (-12 + 10) = -25, c0 = 200 - 25 * 10
    assert cal["c1"] == pytest.approx(-25.0) and cal["c0"] == pytest.approx(-50.0)
    # a: 1/S against Phi_q: slope 50 / -4 = -12.5, intercept 200 - 12.5 * 26 = -125
    assert cal["a1"] == pytest.approx(-12.5) and cal["a0"] == pytest.approx(-125.0)
    # b: Phi_q against Phi_r: slope -4 / -2 = 2, intercept -26 + 20 = -6
    assert cal["b1"] == pytest.approx(2.0) and cal["b0"] == pytest.approx(-6.0)
    # smeared: 1/S against -10, -9: slope -50, intercept 200 - 450
    assert cal["smeared"]["c1"] == pytest.approx(-50.0) and cal["smeared"]["c0"] == pytest.approx(-250.0)
    for k in ("c0_err", "c1_err", "a0_err", "a1_err", "b0_err", "b1_err"):
        assert cal[k] is None
    assert cal["r2"] == {"a": None, "b": None, "c": None} and cal["smeared"]["c0_err"] is None
    # the chained values agree exactly for exact lines
    assert cal["a0"] + cal["a1"] * cal["b0"] == pytest.approx(cal["c0"])
    with pytest.raises(ValueError, match="at least 2 temperatures"):
        cg.calibrate({0.6: per_t[0.6]})
    # three points: errors and R^2 again
    per_t[1.0] = _per_t(1.0, 0.0055, -24.0, -9.0, -8.5)
    cal3 = cg.calibrate(per_t)
    assert cal3["c0_err"] > 0 and 0 < cal3["r2"]["c"] <= 1


def test_setup_refuses_too_few_temperatures_before_any_work(tmp_path):
    from softlib.pipeline import layout

    p = _write(tmp_path, GOOD)
    with pytest.raises(ValueError, match="needs at least 2"):
        layout.setup("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f", temperatures=[0.6], dataset=p,
                     min_temperatures=2, select=False)
    ctx = layout.setup("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f", dataset=p, select=False)
    assert ctx.preset == "my_ka" and ctx.layout.data == tmp_path / "d" / "my_ka" and ctx.kind == "data set"
