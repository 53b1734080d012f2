"""softlib: local softness of the mean-field caging potential in the Kob-Andersen liquid.

One module per concept: ``ka`` (model), ``neighbors`` (cell and Verlet lists),
``md`` (numba engine), ``lammps`` (LAMMPS backend), ``trajectory`` (reading),
``structure`` (g(r), S(q)), ``caging`` (caging potential, HNC depth, calibration),
``local`` (local rdf, depth and softness), ``lifetime`` (C_S, Q, propagator),
``dynamics`` (MSD, alpha_2, F_s, p_hop), ``arrhenius`` (P_R(S) and its
Arrhenius analysis), ``presets`` and ``provenance``.
"""
__version__ = "0.1.0"
