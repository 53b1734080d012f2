"""softlib.pipeline.notebook: unknown parameters refused before anything runs; the Makefile's preset check."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from softlib.pipeline.notebook import check, parameter_names

ROOT = Path(__file__).resolve().parents[2]


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("preset = 'quick'\nwindow = 15.0\ntemperatures = []")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(window)")]
    nbformat.write(nb, str(path))
    return path


def test_parameter_names_of_papermill_arguments(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("lag: 1.0\n")
    args = ["-p", "window", "30", "-r", "preset", "quick", "-y", "temperatures: [0.6]", "-f", str(f),
            "--log-output", "-k", "python3"]
    assert parameter_names(args) == ["window", "preset", "temperatures", "lag"]
    with pytest.raises(ValueError, match="name and a value"):
        parameter_names(["-p", "window"])


def test_unknown_parameter_is_refused_with_a_suggestion(tmp_path):
    nb = _notebook(tmp_path / "n.ipynb")
    check(nb, ["-p", "window", "30", "-y", "temperatures: [0.6]"])  # known: fine
    with pytest.raises(ValueError, match=r"'windw' \(did you mean 'window'\?\).*takes preset, temperatures, window"):
        check(nb, ["-p", "windw", "30"])


def test_runner_stops_before_executing_an_unknown_parameter(tmp_path):
    out = tmp_path / "nb" / "05.ipynb"
    proc = subprocess.run([sys.executable, "-m", "softlib.pipeline.notebook", "run",
                           str(ROOT / "notebooks" / "05_rearrangements.py"), str(out), "--",
                           "-p", "preset", "quick", "-p", "windw", "30"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and "unknown parameter(s) 'windw' (did you mean 'window'?)" in proc.stderr
    assert not out.exists() and not (tmp_path / "nb" / "05.ipynb.lock").exists()


def test_make_refuses_an_unknown_preset():
    proc = subprocess.run(["make", "-s", "PRESET=quik", "analysis"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert proc.returncode != 0
    assert "unknown PRESET 'quik': choose one of paper quick seed" in proc.stderr
