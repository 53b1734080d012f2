"""softlib: local softness of the mean-field caging potential in the Kob-Andersen liquid.

Subpackages by kind (imports only point downwards: pipeline -> analysis, engine, io -> ka, _checks):

``softlib.ka``, ``softlib._checks``
    the model (constants, pair potential) and every input validator.
``softlib.engine``
    makes trajectories: neighbour lists, forces, the numba engine (``md``), the LAMMPS
    backend (``lammps``), frame schedules and the run protocol shared by both engines.
``softlib.io``
    files in and out, no physics: ``trajectory.load`` (the one reader), GSD, atomic stores
    with provenance, the per-particle softness store.
``softlib.analysis``
    physics on arrays: structure (g(r), S(q)), the caging potential and calibration, local
    softness, dynamics (MSD, alpha_2, F_s, p_hop), lifetime, rearrangements, Arrhenius fits,
    equilibration checks.
``softlib.pipeline``
    the compendium around the notebooks: presets (stdlib only: the Makefile reads them),
    folder layout, run selection, per-run stages, the report, plotting.

This file imports nothing, so ``python -m softlib.pipeline.presets`` runs without numpy.
"""
__version__ = "0.1.0"
