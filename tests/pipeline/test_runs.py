"""softlib.pipeline.runs.select_runs: which runs the analysis may use."""
import json

import pytest

from softlib.pipeline.runs import select_runs



def test_select_runs_drops_unequilibrated_samples_and_temperatures(tmp_path):
    from softlib.pipeline.presets import run_tags

    for tag in run_tags("paper"):
        _summary(tmp_path, tag, ok=tag not in ("T0.470_s1", "T0.800_s0"))
    sel = select_runs("paper", tmp_path)
    assert sel["tags"][0.47] == ["T0.470_s0"]          # one sample of two survives
    assert 0.8 not in sel["temperatures"]               # the only sample failed: T dropped
    assert sel["temperatures"] == [0.47, 0.5, 0.53, 0.56, 0.6, 0.65, 0.7]
    assert "no_energy_drift" in sel["dropped"]["T0.800_s0"]
    assert select_runs("paper", tmp_path, require_equilibrated=False)["tags"][0.8] == ["T0.800_s0"]
    assert select_runs("paper", tmp_path, temperatures=[0.6])["temperatures"] == [0.6]


def test_select_runs_bad_input(tmp_path):
    with pytest.raises(ValueError, match="not in preset"):
        select_runs("quick", tmp_path, temperatures=[0.55])
    with pytest.raises(FileNotFoundError, match="run notebook 01"):
        select_runs("quick", tmp_path)
    _summary(tmp_path, "T0.600_s0", ok=False)
    with pytest.raises(ValueError, match="no usable run"):
        select_runs("quick", tmp_path, temperatures=[0.6])


def _summary(path, tag, ok, checks=None):
    checks = checks or {"no_energy_drift": ok, "equilibration_covers_10_tau": True}
    (path / f"{tag}.json").write_text(json.dumps({"tag": tag, "equilibrated": ok, "checks": checks}))


def test_select_runs_requires_complete_runs(tmp_path):
    _summary(tmp_path, "T0.600_s0", ok=True)
    runs = tmp_path / "runs"
    (runs / "T0.600_s0").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="not complete"):
        select_runs("quick", tmp_path, temperatures=[0.6], runs_root=runs)
    (runs / "T0.600_s0" / "run.json").write_text("{}")
    assert select_runs("quick", tmp_path, temperatures=[0.6], runs_root=runs)["tags"] == {0.6: ["T0.600_s0"]}
