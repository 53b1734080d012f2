"""RunSource of a data set run: species default (the larger species is A) and the arrays handed to 05/07."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from softlib.engine.md import random_configuration
from softlib.pipeline import rearrangement_stage as rs
from softlib.pipeline.sources import RunSource, resolve_system, system_facts

DT = 0.0025


def _dump(path, positions, species, box, types=(1, 2), steps=(0, 40, 80)):
    """A LAMMPS `dump custom id type xu yu zu` (gzipped) with the same configuration shifted a little per frame."""
    ty = np.where(species == 0, types[0], types[1])
    with gzip.open(path, "wt") as f:
        for k, step in enumerate(steps):
            x = positions + 0.01 * k
            f.write(f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{ty.size}\nITEM: BOX BOUNDS pp pp pp\n"
                    + "".join(f"0 {L:.10g}\n" for L in box) + "ITEM: ATOMS id type xu yu zu\n"
                    + "".join(f"{i + 1} {t} {a:.6f} {b:.6f} {c:.6f}\n" for i, (t, (a, b, c)) in enumerate(zip(ty, x))))
    return path


@pytest.fixture(scope="module")
def config():
    x, s, box = random_configuration(250, seed=3)
    return x, np.asarray(s), np.asarray(box, float) * np.ones(3)


@pytest.mark.parametrize("types", [(1, 2), (2, 1)])
def test_the_larger_species_is_A_by_default(tmp_path, config, types):
    x, s, box = config
    path = _dump(tmp_path / "ka.lammpstrj.gz", x, s, box, types=types)
    src = RunSource("T1.000_s0", 1.0, path, timestep=DT, kind="dataset")
    tr = src.open("linear")
    assert np.sum(tr.species == 0) == 200 and np.sum(tr.species == 1) == 50
    assert np.array_equal(tr.species, s)  # the same particles are A whichever type number they had
    assert src.swapped is (types == (2, 1))
    np.testing.assert_allclose(tr.times, [0.0, 0.1, 0.2])
    facts = system_facts(tr.species, tr.box)
    assert facts["N_A"] == 200 and resolve_system({"run": facts})["model"]


def test_an_explicit_species_table_is_obeyed_and_a_minority_A_refused(tmp_path, config):
    x, s, box = config
    path = _dump(tmp_path / "ka.lammpstrj.gz", x, s, box, types=(1, 2))
    src = RunSource("T1.000_s0", 1.0, path, timestep=DT, species={"1": 1, "2": 0}, kind="dataset")
    tr = src.open("linear")
    assert not src.swapped and np.sum(tr.species == 0) == 50
    with pytest.raises(ValueError, match="A is the 80 % majority"):
        resolve_system({"run": system_facts(tr.species, tr.box)})


def test_samples_of_hands_a_data_set_run_over_as_arrays(tmp_path, config):
    x, s, box = config
    path = _dump(tmp_path / "ka.lammpstrj.gz", x, s, box, types=(2, 1))

    class Ctx:  # the part of layout.Context that samples_of uses
        def __init__(self, src):
            self.src = src

        def source(self, tag):
            return self.src

    src = RunSource("T1.000_s0", 1.0, path, timestep=DT, kind="dataset")
    [(arrays, soft)] = rs.samples_of(Ctx(src), ["T1.000_s0"], {"T1.000_s0": "soft"})
    _, species, _, pos = arrays
    assert soft == "soft" and pos.shape == (3, 250, 3) and np.array_equal(species, s)
    t, p = rs._positions(arrays)
    np.testing.assert_allclose(t, [0.0, 0.1, 0.2])
    np.testing.assert_allclose(p[1], x + 0.01, atol=2e-6)


@pytest.mark.parametrize("required", [True, False])
def test_runs_that_fail_the_equilibration_check_are_left_out_or_kept_with_a_warning(tmp_path, config, capsys,
                                                                                       required):
    from softlib.pipeline import layout

    x, s, box = config
    for T in (1.0, 1.2):  # 30 frames of almost rigid particles: F_s never decays, so no tau_alpha
        _dump(tmp_path / f"ka_T{T:.2f}.lammpstrj.gz", x, s, box, steps=range(0, 1200, 40))
    toml = tmp_path / "ds.toml"
    toml.write_text(f'name = "stiff"\nmodel = "kob-andersen"\nrequire_equilibrated = {str(required).lower()}\n'
                    + "".join(f'[[runs]]\nT = {T}\nfiles = ["ka_T{T:.2f}.lammpstrj.gz"]\ntimestep = {DT}\n'
                              for T in (1.0, 1.2)))
    kw = {"build_dir": tmp_path / "b", "data_dir": tmp_path / "d", "fig_dir": tmp_path / "f", "dataset": str(toml)}
    if required:
        with pytest.raises(ValueError, match="no usable run.*require_equilibrated = false"):
            layout.setup("quick", **kw)
        return
    ctx = layout.setup("quick", **kw)
    out = capsys.readouterr().out
    assert ctx.tags == {1.0: ["T1.000_s0"], 1.2: ["T1.200_s0"]} and ctx.preset == "stiff"
    assert "WARNING: T1.000_s0 fails duration_covers_10_tau" in out and "analysed anyway" in out
    assert "energy drift not available" in out and "no species table, so the larger species is A" in out
    assert not (tmp_path / "d" / "quick").exists() and (tmp_path / "d" / "stiff" / "simulate" / "T1.000_s0.json").exists()
