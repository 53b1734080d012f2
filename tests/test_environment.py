"""environment.yml and pyproject.toml must list the same dependencies with the same bounds."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"freud": "freud-analysis"}


def _split(req):
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _pyproject():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    return dict(_split(r) for r in reqs)


def _environment():
    out = {}
    in_pip = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        s = line.split("#", 1)[0].rstrip()
        if not s.strip():
            continue
        if re.match(r"^\s*-\s*pip:\s*$", s):
            in_pip = True
            continue
        m = re.match(r"^(\s*)-\s*(\S.*)$", s)
        if not m or s.strip().startswith("- conda-forge"):
            continue
        name, spec = _split(m.group(2))
        if name in ("python", "pip") and not in_pip:
            continue
        out[CONDA_TO_PYPI.get(name, name)] = spec
    return out


def test_same_packages_and_bounds():
    py, env = _pyproject(), _environment()
    assert set(py) == set(env), (
        f"only in pyproject.toml: {sorted(set(py) - set(env))}; "
        f"only in environment.yml: {sorted(set(env) - set(py))}"
    )
    differ = {k: (py[k], env[k]) for k in py if py[k] != env[k]}
    assert not differ, f"version bounds differ (pyproject, environment): {differ}"


def test_parser_sees_the_lists():
    # guards against the parser silently finding nothing
    assert len(_pyproject()) >= 15 and "lammps" in _environment()
