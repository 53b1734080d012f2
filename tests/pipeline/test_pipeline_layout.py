"""softlib.pipeline.layout: every path of build/, data/, figures/ and the notebooks' one-call set-up."""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from softlib.pipeline import layout  # noqa: E402
from softlib.pipeline.presets import get_preset, run_tags  # noqa: E402


def test_paths_of_one_preset(tmp_path):
    lay = layout.Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    assert lay.runs == tmp_path / "b/quick/runs"
    assert lay.run("T0.600_s0") == tmp_path / "b/quick/runs/T0.600_s0"
    assert lay.trajectory("T0.600_s0", "log") == tmp_path / "b/quick/runs/T0.600_s0/log.gsd"
    assert lay.softness_of("T0.700_s1") == tmp_path / "b/quick/softness/T0.700_s1"
    assert lay.structure_of(0.6) == tmp_path / "b/quick/structure/T0.600.npz"
    assert lay.tables == tmp_path / "b/quick/rearrangements_tables.npz"
    assert lay.nb == tmp_path / "b/quick/nb"
    assert lay.data == tmp_path / "d/quick" and lay.figures == tmp_path / "f/quick"
    assert lay.summaries == tmp_path / "d/quick/simulate"
    assert lay.summary("T1.000_s0") == tmp_path / "d/quick/simulate/T1.000_s0.json"
    assert lay.calibration == tmp_path / "d/quick/calibration.json"
    assert lay.json("results") == tmp_path / "d/quick/results.json"
    assert lay.comparison == tmp_path / "d/quick/COMPARISON.md"
    with pytest.raises(ValueError, match="unknown stage"):
        lay.json("nonsense")
    other = lay.for_preset("seed")
    assert other.run("T0.600_s0") == tmp_path / "b/seed/runs/T0.600_s0" and other.data == tmp_path / "d/seed"


def test_relative_roots_are_taken_from_root_not_from_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lay = layout.Layout("paper", "build", "data", "figures", root=tmp_path / "repo")
    assert lay.build == tmp_path / "repo/build/paper" and lay.figures == tmp_path / "repo/figures/paper"
    # without a root: the checkout that holds softlib (it has notebooks/), whatever the working folder
    repo = Path(layout.__file__).resolve().parents[2]
    assert layout.Layout("quick").data == repo / "data/quick"
    assert layout.Layout("quick", "/abs/b").build == Path("/abs/b/quick")


def test_one_colour_per_temperature_whatever_the_subset():
    full = layout.temperature_colors([0.47, 0.5, 0.6, 0.8])
    assert len(set(full.values())) == 4
    again = layout.temperature_colors([0.8, 0.6, 0.5, 0.47, 0.6])  # order and repeats do not matter
    assert again == full
    assert full[0.6000000001] == full[0.6]  # lookups tolerate rounding
    with pytest.raises(KeyError):
        full[0.7]


def _fake_preset_outputs(lay, not_equilibrated=()):
    for tag in run_tags("quick"):
        lay.summaries.mkdir(parents=True, exist_ok=True)
        ok = tag not in not_equilibrated
        lay.summary(tag).write_text(json.dumps({"equilibrated": ok, "checks": {"no_energy_drift": ok}}))
        lay.run(tag).mkdir(parents=True)
        (lay.run(tag) / "run.json").write_text("{}")


def test_setup_selects_runs_creates_folders_and_binds_savefig(tmp_path, capsys):
    lay = layout.Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    _fake_preset_outputs(lay, not_equilibrated=("T0.700_s0",))
    ctx = layout.setup("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    assert "left out T0.700_s0: not equilibrated: failed no_energy_drift" in capsys.readouterr().out
    assert ctx.temperatures == [0.6, 0.8, 1.0] and ctx.T_low == 0.6
    assert ctx.tags == {0.6: ["T0.600_s0"], 0.8: ["T0.800_s0"], 1.0: ["T1.000_s0"]}
    assert ctx.all_tags == ["T0.600_s0", "T0.800_s0", "T1.000_s0"]
    assert ctx.layout == lay and lay.figures.is_dir() and lay.data.is_dir()
    # colours come from all the preset's temperatures, so 0.8 keeps its colour in a subset
    sub = layout.setup("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f", temperatures=[0.8])
    assert sub.temperatures == [0.8] and sub.colors[0.8] == ctx.colors[0.8]
    assert set(ctx.colors) == set(get_preset("quick").temperatures)
    fig, ax = plt.subplots()
    ctx.savefig(fig, "probe")
    plt.close(fig)
    assert (lay.figures / "probe.png").exists() and (lay.figures / "probe.pdf").exists()


def test_setup_fails_early_on_a_wrong_preset_or_missing_runs(tmp_path):
    with pytest.raises(ValueError, match="unknown preset"):
        layout.setup("nope", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    lay = layout.Layout("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    _fake_preset_outputs(lay)
    (lay.run("T0.600_s0") / "run.json").unlink()
    with pytest.raises(FileNotFoundError, match="not complete"):
        layout.setup("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f")
    ctx = layout.setup("quick", tmp_path / "b", tmp_path / "d", tmp_path / "f", select=False)
    assert ctx.temperatures == [] and ctx.tags == {}
