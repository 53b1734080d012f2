"""softlib.pipeline.sweep: the sweep file, the stage mapping, the folders of a point, the collation, the checks.

References are independent of the code under test: papermill's own reading of the notebooks' parameters,
the Makefile's prerequisites, expected rows and conclusions written by hand, and (end to end) the physics
that a p_hop window cannot change p_c or tau_alpha.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from softlib.pipeline import sweep as sw

ROOT = Path(__file__).resolve().parents[2]

#: a hand-written stand-in for the notebooks' parameter cells (the stages that matter here)
DECLARED = {
    "02_calibrate": {"preset": "quick", "build_dir": "build", "delta": 0.09, "q_max": 40.0},
    "03_local_softness": {"preset": "quick", "build_dir": "build", "delta": 0.09, "calibration": "paper",
                          "n_bins": 60},
    "04_lifetime": {"preset": "quick", "delta": 0.09, "calibration": "paper", "a": 0.3},
    "05_rearrangements": {"preset": "quick", "window": 15.0, "calibration": "paper", "n_bins": 8, "n_boot": 200},
    "06_arrhenius": {"preset": "quick", "window": 15.0, "calibration": "paper", "t_selective": 0.6, "n_boot": 200,
                     "finite_size_preset": None},
    "07_predictors": {"preset": "quick", "window": 15.0, "label_window": 3.0},
}


def _parse(text, declared=DECLARED, name="s.toml"):
    import tomllib

    return sw.parse_sweep(tomllib.loads(text), Path("/x") / name, declared)


# ---------------------------------------------------------------------------------------------- the file
def test_declared_parameters_agree_with_papermill(tmp_path):
    import papermill

    jupytext = Path(sys.executable).parent / "jupytext"
    for stage in (*sw.STAGES, "09_sweeps"):
        out = tmp_path / f"{stage}.ipynb"
        subprocess.run([str(jupytext), "--quiet", "--to", "ipynb", "-o", str(out),
                        str(ROOT / "notebooks" / f"{stage}.py")], check=True)
        assert set(sw.declared_parameters(ROOT / "notebooks" / f"{stage}.py")) == set(
            papermill.inspect_notebook(str(out))), stage


def test_sweep_file_gives_every_combination_in_order():
    s = _parse('name = "two"\n[grid]\ndelta = [0.05, 0.09]\nwindow = [15, 30.0]\n[fixed]\ncalibration = "smeared"\n')
    assert s.name == "two" and s.parameters == ["delta", "window", "calibration"]
    assert s.points() == [
        ("delta-0.05_window-15", {"delta": 0.05, "window": 15, "calibration": "smeared"}),
        ("delta-0.05_window-30", {"delta": 0.05, "window": 30.0, "calibration": "smeared"}),
        ("delta-0.09_window-15", {"delta": 0.09, "window": 15, "calibration": "smeared"}),
        ("delta-0.09_window-30", {"delta": 0.09, "window": 30.0, "calibration": "smeared"}),
    ]
    assert _parse("[grid]\nwindow = [15]\n", name="win.toml").name == "win"  # default: the file name


def test_the_shipped_sweep_files_are_valid():
    names = {p.stem: sw.load_sweep(p) for p in sorted((ROOT / "sweeps").glob("*.toml"))}
    assert {"delta", "window", "calibration"} <= set(names)
    assert names["window"].grid == {"window": (15, 30, 45, 75)}
    assert names["delta"].grid == {"delta": (0.05, 0.07, 0.09, 0.12)}
    assert names["calibration"].grid == {"calibration": ("paper", "smeared")}


def test_unknown_parameter_names_the_notebooks_and_what_they_declare():
    declared = sw.notebook_parameters(ROOT)
    with pytest.raises(sw.SweepError) as e:
        _parse("[grid]\nwindw = [15, 30]\n", declared)
    msg = str(e.value)
    assert "unknown parameter 'windw' (did you mean 'window'?)" in msg
    for stage in sw.STAGES:
        assert f"{stage}:" in msg
    assert "05_rearrangements: " in msg and "window" in msg.split("05_rearrangements: ")[1].split(";")[0]


@pytest.mark.parametrize("text, match", [
    ("[grid]\nlabel_window = [1.0, 3.0]\n", r"declared only by 07_predictors.*does not run"),
    ("[grid]\nbuild_dir = ['a', 'b']\n", r"'build_dir' cannot be swept: each point gets its own build folder"),
    ("[grid]\nfinite_size_preset = ['seed']\n", r"cannot be swept"),
    ("[grid]\nwindow = ['long']\n", r"window = 'long', but the notebooks expect a number"),
    ("[grid]\ncalibration = ['papr']\n", r"'papr' is not one of 'paper', 'smeared'"),
    ("[grid]\nwindow = [15, 15.0]\n", r"lists a value twice"),
    ("[grid]\nwindow = []\n", r"non-empty list"),
    ("[grid]\nwindow = 15\n", r"non-empty list"),
    ("[grid]\nwindow = [[15, 30]]\n", r"a number, a string or a boolean"),
    ("[grid]\ncalibration = ['a b']\n", r"letters, digits"),
    ("name = 'x'\n", r"\[grid\] table with at least one parameter is required"),
    ("nmae = 'x'\n[grid]\nwindow = [15]\n", r"unknown key\(s\) \['nmae'\]"),
    ("name = 'a/b'\n[grid]\nwindow = [15]\n", r"name must be letters"),
    ("[grid]\nwindow = [15]\n[fixed]\nwindow = 30\n", r"both in \[grid\] and in \[fixed\]"),
])
def test_bad_sweep_files_are_refused_with_the_fix(text, match):
    with pytest.raises(sw.SweepError, match=match):
        _parse(text)


def test_load_sweep_names_a_missing_or_broken_file(tmp_path):
    with pytest.raises(sw.SweepError, match="no sweep file"):
        sw.load_sweep(tmp_path / "none.toml", DECLARED)
    (tmp_path / "bad.toml").write_text("[grid\nwindow = [1]\n")
    with pytest.raises(sw.SweepError, match="is not valid TOML"):
        sw.load_sweep(tmp_path / "bad.toml", DECLARED)


def test_command_line_reports_errors_on_stderr(tmp_path):
    (tmp_path / "s.toml").write_text("[grid]\nwindw = [15]\n")
    proc = subprocess.run([sys.executable, "-m", "softlib.pipeline.sweep", "plan", str(tmp_path / "s.toml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 2 and "did you mean 'window'" in proc.stderr


# ---------------------------------------------------------------------------------------------- stages
def test_stage_graph_is_the_makefiles():
    rules = {}
    for line in (ROOT / "Makefile").read_text().splitlines():
        m = re.match(r"^\$\(NB\)/(\d\d_\w+)\.ipynb:(.*)$", line)
        if m and m.group(1) in sw.STAGES:
            rules[m.group(1)] = {s for s in re.findall(r"\$\(NB\)/(\d\d_\w+)\.ipynb", m.group(2))
                                 if s in sw.STAGES}
    assert rules == {s: set(sw.NEEDS[s]) for s in sw.STAGES}


def test_downstream_and_upstream():
    assert sw.downstream("05_rearrangements") == ("05_rearrangements", "06_arrhenius")
    assert sw.downstream("04_lifetime") == ("04_lifetime", "06_arrhenius")
    assert sw.downstream("03_local_softness") == ("03_local_softness", "04_lifetime", "05_rearrangements",
                                                  "06_arrhenius")
    assert sw.downstream("02_calibrate") == sw.STAGES
    assert sw.upstream("06_arrhenius") == ("02_calibrate", "03_local_softness", "04_lifetime", "05_rearrangements")
    assert sw.upstream("05_rearrangements") == ("02_calibrate", "03_local_softness")


def test_each_parameter_enters_at_its_first_notebook():
    declared = sw.notebook_parameters(ROOT)
    main = {"calibration": "paper"}
    assert sw.entry_stage("window", {}, main, declared) == "05_rearrangements"
    assert sw.entry_stage("calibration", {}, main, declared) == "03_local_softness"
    assert sw.entry_stage("delta", {}, main, declared) == "03_local_softness"
    assert sw.entry_stage("delta", {"calibration": "smeared"}, main, declared) == "02_calibrate"
    assert sw.entry_stage("delta", {}, {"calibration": "smeared"}, declared) == "02_calibrate"
    assert sw.entry_stage("t_selective", {}, main, declared) == "06_arrhenius"
    assert sw.entry_stage("a", {}, main, declared) == "04_lifetime"
    assert sw.entry_stage("q_max", {}, main, declared) == "02_calibrate"
    assert sw.stages_to_run({}, {}, main, declared) == ()
    assert sw.stages_to_run({"window": 30, "a": 0.2}, {}, main, declared) == (
        "04_lifetime", "05_rearrangements", "06_arrhenius")


# ---------------------------------------------------------------------------------------------- folders
def _executed(path, parameters):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": {"papermill": {"parameters": parameters}},
                                "nbformat": 4, "nbformat_minor": 5}))


def _main_build(tmp_path, window_given=None):
    """A fake main build of the quick preset: every product a point may read, each with its own content."""
    b, d = tmp_path / "build" / "quick", tmp_path / "data" / "quick"
    for sub in ("runs/T0.600_s0", "softness/T0.600_s0", "structure"):
        (b / sub).mkdir(parents=True)
    (b / "rearrangements_tables.npz").write_bytes(b"tables")
    (d / "simulate").mkdir(parents=True)
    (d / "simulate" / "T0.600_s0.json").write_text('{"equilibrated": true}')
    for name in ("calibration", "local_softness", "lifetime", "rearrangements", "results", "predictors"):
        (d / f"{name}.json").write_text(json.dumps({"stage": name}))
    (d / "COMPARISON.md").write_text("# table\n")
    given = {"build_dir": "/elsewhere", "preset": "quick"}
    _executed(b / "nb" / "05_rearrangements.ipynb", given | ({"window": window_given} if window_given else {}))
    _executed(b / "nb" / "06_arrhenius.ipynb", given | {"n_boot": 50, "finite_size_preset": "seed"})
    return sw.Target.make("quick", None, tmp_path / "build", tmp_path / "data", tmp_path / "figures")


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_plan_reads_the_main_builds_values_from_its_executed_notebooks(tmp_path):
    target = _main_build(tmp_path, window_given=30)  # the main build ran 05 with -p window 30
    s = _parse("[grid]\nwindow = [15, 30]\n", name="window.toml")
    points, main = sw.plan(s, target, DECLARED)
    assert main == {"window": 30}
    assert [(p.name, p.changed, p.stages) for p in points] == [
        ("window-15", {"window": 15}, ("05_rearrangements", "06_arrhenius")),
        ("window-30", {}, ())]
    assert points[1].reused and not points[0].reused


def test_point_folders_link_the_shared_outputs_and_copy_the_json(tmp_path):
    target = _main_build(tmp_path)
    before = _digest(tmp_path / "build" / "quick") | _digest(tmp_path / "data" / "quick")
    s = _parse("[grid]\nwindow = [15, 30]\n", name="window.toml")
    points, _ = sw.plan(s, target, DECLARED)
    p = points[1]
    root = tmp_path / "build" / "quick" / "sweeps" / "window" / "window-30"
    assert (p.folder, p.build, p.data, p.fig_dir) == (root, root / "build" / "quick", root / "data" / "quick",
                                                      root / "figures")
    assert p.results == root / "data" / "quick" / "results.json"
    assert p.executed("05_rearrangements") == root / "build" / "quick" / "nb" / "05_rearrangements.ipynb"
    sw.prepare(p, target)
    main_b = tmp_path / "build" / "quick"
    for item in ("runs", "softness", "structure"):
        assert (p.build / item).is_symlink() and (p.build / item).resolve() == (main_b / item).resolve()
    assert not (p.build / "rearrangements_tables.npz").exists()  # 05 reruns: its own tables
    for name in ("calibration", "local_softness", "lifetime"):
        assert not (p.data / f"{name}.json").is_symlink()
        assert json.loads((p.data / f"{name}.json").read_text()) == {"stage": name}
    for name in ("rearrangements", "results", "predictors"):
        assert not (p.data / f"{name}.json").exists()
    assert (p.data / "simulate" / "T0.600_s0.json").read_text() == '{"equilibrated": true}'
    sw.prepare(p, target)  # again: nothing changes, nothing fails
    assert _digest(tmp_path / "build" / "quick" / "runs") == {}
    after = _digest(tmp_path / "build" / "quick") | _digest(tmp_path / "data" / "quick")
    assert {k: v for k, v in after.items() if not k.startswith("sweeps")} == before


def test_point_of_the_main_values_copies_the_main_results(tmp_path):
    target = _main_build(tmp_path)
    s = _parse("[grid]\nwindow = [15]\n", name="window.toml")
    (p,), main = sw.plan(s, target, DECLARED)
    assert p.reused
    assert sw.run_point(p, target, main, {}, DECLARED) == "reused"
    for name in ("calibration", "local_softness", "lifetime", "rearrangements", "results"):
        assert (p.data / f"{name}.json").read_bytes() == (target.data / f"{name}.json").read_bytes()
    assert (p.data / "COMPARISON.md").read_text() == "# table\n"
    assert not (p.build / "nb").exists()
    assert sw.run_point(p, target, main, {}, DECLARED) == "done before"


def test_a_point_folder_of_another_plan_is_refused(tmp_path):
    target = _main_build(tmp_path)
    s = _parse("[grid]\nwindow = [15]\n", name="window.toml")
    (p,), main = sw.plan(s, target, DECLARED)
    p.folder.mkdir(parents=True)
    (p.folder / "point.json").write_text(json.dumps({"values": {"window": 15}, "stages": ["05_rearrangements"]}))
    with pytest.raises(sw.SweepError, match="describes another plan.*remove"):
        sw.run_point(p, target, main, {}, DECLARED)


def test_missing_main_outputs_name_the_make_command(tmp_path):
    target = _main_build(tmp_path)
    shutil.rmtree(tmp_path / "build" / "quick" / "softness")
    s = _parse("[grid]\nwindow = [30]\n", name="window.toml")
    (p,), _ = sw.plan(s, target, DECLARED)
    assert sw.missing_inputs(p, target) == [f"{tmp_path / 'build' / 'quick' / 'softness'} (output of 03_local_softness)"]
    with pytest.raises(sw.SweepError, match=r"softness is missing.*make analysis PRESET=quick BUILD_ROOT="):
        sw.prepare(p, target)


def test_stage_arguments_carry_the_folders_the_main_parameters_and_the_point_values(tmp_path):
    import yaml

    from softlib.pipeline.notebook import parameter_names

    target = _main_build(tmp_path)
    s = _parse("[grid]\nwindow = [30]\n", name="window.toml")
    (p,), _ = sw.plan(s, target, DECLARED)
    main_params = sw.main_parameters(target, DECLARED)
    assert main_params["06_arrhenius"] == {"n_boot": 50}  # finite_size_preset and the folders are not inherited
    args = sw.stage_arguments("06_arrhenius", p, target, main_params, DECLARED)
    assert args[:10] == ["-p", "preset", "quick", "-p", "build_dir", str(p.build_dir), "-p", "data_dir",
                         str(p.data_dir), "-p"]
    assert yaml.safe_load(args[args.index("-y") + 1]) == {"n_boot": 50, "window": 30}
    assert set(parameter_names(args)) == {"preset", "build_dir", "data_dir", "fig_dir", "n_boot", "window"}
    args05 = sw.stage_arguments("05_rearrangements", p, target, main_params, DECLARED)
    assert yaml.safe_load(args05[args05.index("-y") + 1]) == {"window": 30}


def test_main_results_of_another_build_are_refused(tmp_path):
    target = _main_build(tmp_path)
    np.savez(tmp_path / "build" / "quick" / "rearrangements_tables.npz", edges=np.array([1e-3, 2e-3, 3e-3]))
    res = {"softness_bins": [1e-3, 2e-3, 3e-3],
           "provenance": {"parameters": {"inputs": ["/a/data/quick/rearrangements.json",
                                                    "/other/quick/rearrangements_tables.npz"]}}}
    (tmp_path / "data" / "quick" / "results.json").write_text(json.dumps(res))
    sw.check_main(target)  # same bins: the same build, wherever it lives now
    res["softness_bins"] = [1e-3, 2e-3, 3.1e-3]
    (tmp_path / "data" / "quick" / "results.json").write_text(json.dumps(res))
    with pytest.raises(sw.SweepError, match=r"not computed from the build .* names /other\): give the build root"):
        sw.check_main(target)


def test_a_data_set_names_the_folders_and_is_passed_to_every_notebook(tmp_path):
    for f in ("a.gsd", "b.gsd"):
        (tmp_path / f).write_bytes(b"")
    ds = tmp_path / "my.toml"
    ds.write_text('name = "my_ka"\nmodel = "kob-andersen"\n[[runs]]\nT = 0.6\nfiles = ["a.gsd"]\n'
                  '[[runs]]\nT = 0.8\nfiles = ["b.gsd"]\n')
    target = sw.Target.make("quick", ds, tmp_path / "build", tmp_path / "data", tmp_path / "figures")
    assert target.name == "my_ka" and target.build == tmp_path / "build" / "my_ka"
    assert target.table("w") == tmp_path / "data" / "my_ka" / "sweeps" / "w.csv"
    (tmp_path / "data" / "my_ka" / "simulate").mkdir(parents=True)
    for f in ("calibration", "local_softness", "lifetime"):
        (tmp_path / "data" / "my_ka" / f"{f}.json").write_text("{}")
    (tmp_path / "build" / "my_ka" / "softness").mkdir(parents=True)
    (p,), _ = sw.plan(_parse("[grid]\nwindow = [30]\n", name="w.toml"), target, DECLARED, main_params={})
    assert p.folder == tmp_path / "build" / "my_ka" / "sweeps" / "w" / "window-30"
    args = sw.stage_arguments("05_rearrangements", p, target, {}, DECLARED)
    assert args[3:6] == ["-p", "dataset", str(ds.resolve())]
    sw.prepare(p, target)  # a data set's build has no runs/ (its files are read where they are): no link
    assert not (p.build / "runs").exists() and (p.build / "softness").is_symlink()


def test_a_failed_point_is_reported_and_the_others_are_collated(tmp_path):
    target = _main_build(tmp_path)
    (tmp_path / "data" / "quick" / "results.json").write_text(json.dumps(RESULTS))
    np.savez(tmp_path / "build" / "quick" / "rearrangements_tables.npz", edges=np.array(RESULTS["softness_bins"]))
    shutil.rmtree(tmp_path / "build" / "quick" / "softness")  # window 30 cannot run
    s = _parse("[grid]\nwindow = [15, 30]\n", name="window.toml")
    out = sw.run_sweep(s, target, DECLARED, log=lambda *a: None)
    assert out["failed"] == ["window-30"]
    assert [p["status"][:6] for p in out["points"]] == ["reused", "failed"]
    df = sw.read_table(out["table"])
    assert list(dict.fromkeys(df["point"])) == ["main", "window-15"]
    assert Path(out["figure"]).exists()
    failed = sw.failed_points(target.table("window").with_suffix(".json"))
    assert list(failed) == ["window-30"] and "softness is missing" in failed["window-30"]
    from softlib.pipeline.layout import Layout

    text = sw.inventory(Layout("quick", tmp_path / "build", tmp_path / "data", tmp_path / "figures"),
                        {"window": df})
    assert "window: 1 point(s) with results" in text and "window-30 FAILED" in text


# ---------------------------------------------------------------------------------------------- collation
#: a results.json written by hand (2 temperatures, 2 softness bins, the selective fit impossible)
RESULTS = {
    "preset": "quick", "temperatures": [0.6, 0.8],
    "fraction_above_peak": {"value": 0.62, "error": 0.02}, "fraction_above_peak_T": 0.6,
    "baseline_above_peak": {"value": 0.5, "error": 0.01},
    "fraction_above_median": {"value": 0.55, "error": 0.03},
    "onset_temperature": {"value": 0.75, "low": 0.7, "high": 0.8, "fit": "all temperatures", "interval": 0.95},
    "onset_temperature_all": {"T": 0.75, "low": 0.7, "high": 0.8},
    "onset_temperature_selective": {"value": None, "reason": "one temperature"},
    "tau_alpha": {"0.800": 3.0, "0.600": 15.0},
    "p_c": {"0.600": 0.14, "0.800": 0.16},
    "softness_bins": [0.001, 0.0012, 0.0016],
    "delta_E": [3.0, 2.0], "delta_E_error": [0.5, 0.4],
    "ln_P0": [2.5, 1.5], "ln_P0_error": [0.6, 0.3], "chi2_dof": [1.2, 0.8],
    "barrier_trend": {"S": {"slope": -2000.0, "slope_err": 500.0, "r2": 0.9},
                      "inv_S": {"slope": 0.002, "slope_err": 0.001, "r2": 0.8}},
    "window": 15.0, "calibration": "paper",
}

#: the rows of RESULTS, by hand: (quantity, T, bin, value, error)
EXPECTED = [
    ("fraction_above_peak", 0.6, None, 0.62, 0.02),
    ("baseline_above_peak", 0.6, None, 0.5, 0.01),
    ("fraction_above_median", 0.6, None, 0.55, 0.03),
    ("onset_temperature", None, None, 0.75, 0.05),
    ("onset_temperature_low", None, None, 0.7, None),
    ("onset_temperature_high", None, None, 0.8, None),
    ("onset_fit_selective", None, None, 0.0, None),
    ("onset_temperature_all", None, None, 0.75, 0.05),
    ("onset_temperature_all_low", None, None, 0.7, None),
    ("onset_temperature_all_high", None, None, 0.8, None),
    ("tau_alpha", 0.6, None, 15.0, None),
    ("tau_alpha", 0.8, None, 3.0, None),
    ("p_c", 0.6, None, 0.14, None),
    ("p_c", 0.8, None, 0.16, None),
    ("softness_bin_center", None, 0, 0.0011, 0.0001),
    ("softness_bin_center", None, 1, 0.0014, 0.0002),
    ("delta_E", None, 0, 3.0, 0.5),
    ("delta_E", None, 1, 2.0, 0.4),
    ("ln_P0", None, 0, 2.5, 0.6),
    ("ln_P0", None, 1, 1.5, 0.3),
    ("chi2_dof", None, 0, 1.2, None),
    ("chi2_dof", None, 1, 0.8, None),
    ("barrier_slope_S", None, None, -2000.0, 500.0),
    ("barrier_r2_S", None, None, 0.9, None),
    ("barrier_slope_inv_S", None, None, 0.002, 0.001),
    ("barrier_r2_inv_S", None, None, 0.8, None),
]


def _close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def _as_tuple(row):
    import pandas as pd

    def none(v):
        return None if v is None or pd.isna(v) else v

    b = none(row["bin"])
    return row["quantity"], none(row["T"]), None if b is None else int(b), none(row["value"]), none(row["error"])


def _same_rows(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g[0] == e[0] and g[2] == e[2], (g, e)
        assert all(_close(x, y) for x, y in ((g[1], e[1]), (g[3], e[3]), (g[4], e[4]))), (g, e)


def test_results_rows_against_hand_written_rows():
    _same_rows([_as_tuple(r) for r in sw.results_rows(RESULTS)], EXPECTED)


def test_table_columns_and_csv_round_trip(tmp_path):
    df = sw.collate("window", ["window"], [("main", {"window": 15.0}, RESULTS), ("window-30", {"window": 30}, RESULTS)])
    assert list(df.columns) == ["sweep", "point", "window", "quantity", "T", "bin", "value", "error"]
    assert len(df) == 2 * len(EXPECTED)
    assert set(df["sweep"]) == {"window"} and list(dict.fromkeys(df["point"])) == ["main", "window-30"]
    path = sw.write_table(df, tmp_path / "sweeps" / "window.csv")
    back = sw.read_table(path)
    assert sw.parameter_columns(back) == ["window"]
    _same_rows([_as_tuple(r) for r in back[back["point"] == "window-30"].to_dict("records")], EXPECTED)
    assert back[back["point"] == "window-30"]["window"].unique().tolist() == [30]


def _variant(**changes):
    """RESULTS with some numbers changed (nested keys joined by '__')."""
    out = json.loads(json.dumps(RESULTS))
    for key, v in changes.items():
        d = out
        *head, last = key.split("__")
        for k in head:
            d = d[k]
        d[last] = v
    return out


def _sweep_table(points):
    return sw.collate("window", ["window"], [("main", {"window": 15}, RESULTS)] + points)


def test_conclusions_survive_when_every_point_agrees():
    df = _sweep_table([("window-30", {"window": 30}, _variant(onset_temperature_all__T=0.78)),
                       ("window-45", {"window": 45}, RESULTS)])
    onset, frac, barrier = sw.conclusions(df)
    assert onset["survives"] and onset["hold"] == ["window-30", "window-45"]
    assert "contains the main build's T* = 0.75 at all 2 points: this conclusion survives" in onset["sentence"]
    assert frac["survives"] and frac["clear"] == ["window-30", "window-45"]  # 0.12 > 2 * hypot(0.02, 0.01)
    assert barrier["survives"] and barrier["sign"] == -1 and "falls with S" in barrier["sentence"]
    assert frac["sentence"].endswith("The margin exceeds two combined standard errors at all 2 points.")
    assert barrier["sentence"].endswith("The slope exceeds twice its error at all 2 points.")


def test_conclusions_fail_where_a_point_disagrees():
    df = _sweep_table([
        ("window-30", {"window": 30}, _variant(onset_temperature_all__low=0.76, onset_temperature_all__high=0.9,
                                              onset_temperature_all__T=0.8)),
        ("window-45", {"window": 45}, _variant(fraction_above_peak__value=0.49)),
        ("window-75", {"window": 75}, _variant(barrier_trend__S__slope=300.0,
                                              fraction_above_peak__value=0.53)),
    ])
    onset, frac, barrier = sw.conclusions(df)
    assert onset["survives"] is False and onset["fail"] == {"window-30": "0.8 [0.76, 0.9]"}
    assert "at 2 of 3 points, not at window-30: 0.8 [0.76, 0.9]: this conclusion does not survive" in \
        onset["sentence"]
    assert frac["survives"] is False and list(frac["fail"]) == ["window-45"]
    assert frac["clear"] == ["window-30"]  # 0.53 - 0.50 = 0.03 < 2 * hypot(0.02, 0.01) = 0.045
    assert frac["sentence"].endswith("exceeds two combined standard errors at 1 of 3 points (window-30).")
    assert barrier["survives"] is False and list(barrier["fail"]) == ["window-75"]
    assert barrier["clear"] == ["window-30", "window-45"]  # |300| < 2 * 500


def test_conclusions_without_points_or_main_say_so():
    only_main = sw.collate("w", ["window"], [("main", {"window": 15}, RESULTS)])
    assert all(c["survives"] is None and "no point of the sweep has results yet" in c["sentence"]
               for c in sw.conclusions(only_main))
    no_main = sw.collate("w", ["window"], [("window-30", {"window": 30}, RESULTS)])
    onset = sw.onset_conclusion(no_main)
    assert onset["survives"] is None and "no value to compare with" in onset["sentence"]
    flat = sw.collate("w", ["window"], [("main", {"window": 15}, RESULTS),
                                        ("window-30", {"window": 30}, _variant(barrier_trend__S__slope=-900.0))])
    barrier = sw.barrier_conclusion(flat)  # |-900| < 2 * 500
    assert barrier["survives"] and barrier["sentence"].endswith(
        "at the only point: this conclusion survives the sweep. At no point does the slope exceed twice its error: "
        "its sign is not resolved.")


def test_selective_onset_is_compared_when_the_main_build_shows_it():
    sel = _variant(onset_temperature={"value": 0.66, "low": 0.65, "high": 0.68, "fit": "T <= 0.6",
                                      "interval": 0.95},
                   onset_temperature_selective={"T": 0.66, "low": 0.65, "high": 0.68})
    df = sw.collate("w", ["window"], [("main", {"window": 15}, sel),
                                      ("window-30", {"window": 30}, RESULTS)])  # no selective fit there
    onset = sw.onset_conclusion(df)
    assert onset["claim"] == "onset temperature (fit over selective temperatures)"
    assert onset["fail"] == {"window-30": "no crossing"}


def test_headline_table_and_figure():
    df = _sweep_table([("window-30", {"window": 30}, RESULTS)])
    tab = sw.headline_table(df)
    assert list(tab.index) == ["main", "window-30"]
    assert tab.loc["window-30", "above peak"] == "0.62 +- 0.02"
    assert tab.loc["main", "T* [interval]"] == "0.75 [0.7, 0.8]"
    assert tab.loc["main", "p_c (T = 0.60)"] == "0.14"
    fig = sw.plot_sweep(df, "window")
    assert len(fig.axes) == 6
    cat = sw.collate("calibration", ["calibration"], [("main", {"calibration": "paper"}, RESULTS),
                                                      ("calibration-smeared", {"calibration": "smeared"}, RESULTS)])
    fig = sw.plot_sweep(cat, "calibration")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["smeared", "paper"]


# ---------------------------------------------------------------------------------------------- end to end
def _quick_build():
    """(build root, data/quick) of a complete quick build whose results.json it made, or a skip."""
    data = ROOT / "data" / "quick"
    if not (data / "results.json").exists():
        pytest.skip("data/quick/results.json is missing: run make quick")
    res = json.loads((data / "results.json").read_text())
    recorded = sw.recorded_build(res)
    for root in ([recorded.parent] if recorded else []) + [ROOT / "build"]:
        b = root / "quick"
        if all((b / x).exists() for x in ("runs", "softness", "structure", "rearrangements_tables.npz")):
            with np.load(b / "rearrangements_tables.npz") as t:
                if np.allclose(t["edges"], res["softness_bins"], rtol=1e-9, atol=0):
                    return root, data
    pytest.skip("no quick build matches data/quick/results.json: run make quick")


def test_window_sweep_of_the_quick_preset_end_to_end(tmp_path):
    """Two points on a copy of the quick build: window 15 (the main value: copied), window 30 (05, 06 rerun)."""
    root, data = _quick_build()
    main_b = tmp_path / "build" / "quick"
    main_b.mkdir(parents=True)
    for item in ("runs", "softness", "structure", "rearrangements_tables.npz", "nb"):
        (main_b / item).symlink_to(root / "quick" / item)
    shutil.copytree(data, tmp_path / "data" / "quick", ignore=shutil.ignore_patterns("sweeps"))
    committed = _digest(data)
    (tmp_path / "w.toml").write_text('name = "w"\n[grid]\nwindow = [15, 30]\n')
    cmd = [sys.executable, "-m", "softlib.pipeline.sweep", "run", str(tmp_path / "w.toml"), "--preset", "quick",
           "--build-root", str(tmp_path / "build"), "--data-root", str(tmp_path / "data"),
           "--fig-root", str(tmp_path / "figures")]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900, check=False)
    wall = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"2-point window sweep: {wall:.0f} s")

    df = sw.read_table(tmp_path / "data" / "quick" / "sweeps" / "w.csv")
    assert list(dict.fromkeys(df["point"])) == ["main", "window-15", "window-30"]
    assert (tmp_path / "figures" / "quick" / "sweeps" / "w.png").stat().st_size > 10_000
    meta = json.loads((tmp_path / "data" / "quick" / "sweeps" / "w.json").read_text())
    assert [p["status"] for p in meta["points"]] == ["reused", "ran"]
    assert meta["main"] == {"window": 15.0} and "git_revision" in meta["provenance"]

    def values(point):
        return df[df["point"] == point].drop(columns=["point", "window"]).reset_index(drop=True)

    assert values("window-15").equals(values("main"))
    point = tmp_path / "build" / "quick" / "sweeps" / "w" / "window-30"
    res30 = json.loads((point / "data" / "quick" / "results.json").read_text())
    assert res30["window"] == 30 and res30["provenance"]["parameters"]["window"] == 30
    # p_c and tau_alpha come from the MSD and F_s of the runs: the p_hop window cannot move them
    main_res = json.loads((data / "results.json").read_text())
    for q in ("p_c", "tau_alpha"):
        assert res30[q] == pytest.approx(main_res[q], rel=1e-9), q
    assert (point / "build" / "quick" / "softness").resolve() == (root / "quick" / "softness").resolve()
    assert not (point / "build" / "quick" / "rearrangements_tables.npz").is_symlink()
    assert sorted(p.name for p in (point / "build" / "quick" / "nb").glob("*.ipynb")) == [
        "05_rearrangements.ipynb", "06_arrhenius.ipynb"]
    assert _digest(data) == committed

    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert again.returncode == 0 and again.stdout.count("done before") == 2, again.stdout
