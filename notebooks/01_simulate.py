# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Simulating the Kob-Andersen liquid
#
# Everything downstream (structure, caging potential, local softness, rearrangements) is computed
# from the trajectories this notebook produces. One execution handles one temperature $T$ and one
# independent sample; the Makefile runs one copy per (T, sample) of the chosen preset, in parallel.
#
# **The model (Eq. 1).** Two species, A (80 %) and B (20 %), of equal mass interact through
# Lennard-Jones pair potentials
# $$u_{uv}(r) = 4\epsilon_{uv}\left[\left(\frac{\sigma_{uv}}{r}\right)^{12} - \left(\frac{\sigma_{uv}}{r}\right)^{6}\right],$$
# with $\epsilon_{AA}=1$, $\epsilon_{AB}=1.5$, $\epsilon_{BB}=0.5$, $\sigma_{AA}=1$, $\sigma_{AB}=0.8$,
# $\sigma_{BB}=0.88$. The strong, short A-B attraction is what frustrates crystallisation. Each
# potential is cut at $r^{c}_{uv} = 2.5\,\sigma_{uv}$ and lifted so that it vanishes there,
# $$U_{uv}(r) = \begin{cases} u_{uv}(r) - u_{uv}(r^{c}_{uv}) & r \le r^{c}_{uv} \\ 0 & r > r^{c}_{uv}. \end{cases}$$
# Only the energy is shifted: the force $-U'_{uv}$ still drops to zero discontinuously at the cutoff,
# exactly as in LAMMPS with `pair_modify shift yes`. The number density is $\rho = N/V = 1.2$.
#
# **Equations of motion.** We integrate Newton's equations with velocity Verlet (time step
# $\Delta t = 0.0025$),
# $$\mathbf v(t+\tfrac{\Delta t}{2}) = \mathbf v(t) + \tfrac{\Delta t}{2m}\mathbf F(t),\quad
#   \mathbf r(t+\Delta t) = \mathbf r(t) + \Delta t\,\mathbf v(t+\tfrac{\Delta t}{2}),\quad
#   \mathbf v(t+\Delta t) = \mathbf v(t+\tfrac{\Delta t}{2}) + \tfrac{\Delta t}{2m}\mathbf F(t+\Delta t),$$
# coupled to a Nosé-Hoover chain of length 3 (Martyna-Tuckerman-Klein) for the canonical ensemble.
# The first chain variable $\xi_1$ with mass $Q_1 = N_f k_B T\,\tau_T^2$ feels the mismatch between the
# instantaneous and target kinetic energies,
# $$\dot\xi_1 = \frac{1}{Q_1}\left(\sum_i m v_i^2 - N_f k_B T\right) - \xi_1\xi_2,\qquad
#   \dot{\mathbf v}_i = \frac{\mathbf F_i}{m} - \xi_1 \mathbf v_i,$$
# and each further link thermostats the one before it ($Q_{k>1} = k_B T \tau_T^2$). The damping time
# is $\tau_T = 100\,\Delta t = 0.25$, the same as LAMMPS `fix nvt ... 0.25`. The chain adds a conserved
# quantity (the extended energy) whose drift we monitor as a check of the integration.
#
# **Protocol.** Random start with overlaps removed, melt at $T = 2$, instantaneous quench to $T$,
# equilibration, then production. Production writes two frame schedules into GSD files: a dense
# linear one (for $p_{hop}$) and log-spaced blocks (for correlation functions). Checkpoints make every
# stage resumable: rerunning this notebook continues an interrupted run and never repeats finished work.

# %% tags=["parameters"]
preset = "quick"        # quick | paper | seed (softlib.pipeline.presets)
T = 0.60                # temperature (eps_AA / k_B)
sample = 0              # independent sample index (its own seed and start)
engine = "numba"        # numba (softlib.engine.md) | lammps (softlib.engine.lammps)
ranks = 1               # MPI ranks for the lammps engine
N = None                # override the preset's N
rho = None              # override the density (default 1.2)
seed = None             # override the seed of this (T, sample)
t_equilibrate = None    # override the equilibration length (tau)
t_production = None     # override the production length (tau)
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
out_dir = None          # default: <build_dir>/<preset>/runs/<tag>
progress = True

# %%
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from softlib import ka
from softlib.io import store as provenance
from softlib.pipeline import figures, plotting, presets
from softlib.pipeline.layout import Layout

plotting.use_style()
overrides = {k: v for k, v in dict(N=N, rho=rho, seed=seed, t_equilibrate=t_equilibrate,
                                   t_production=t_production).items() if v is not None}
plan = dataclasses.replace(presets.get_preset(preset).plan(T, sample), **overrides)
paths = Layout(preset, build_dir, data_dir, fig_dir)
run_dir = Path(out_dir) if out_dir else paths.run(plan.tag)
summary_path = paths.summary(plan.tag)
print(f"{plan.tag}: N = {plan.N}, rho = {plan.rho}, dt = {plan.dt}")
print(f"equilibration {plan.t_equilibrate:g} tau, production {plan.t_production:g} tau, "
      f"dense frames every {plan.dense_interval:g}, log blocks of {plan.log_block:g}")

# %% [markdown]
# ## The pair potentials
# The three shifted potentials. The A-B well is the deepest and sits at the shortest distance.

# %%
fig = figures.pair_potentials(ka.pair_potential)

# %% [markdown]
# ## Run (or resume)
# `simulate` does nothing when the run is complete (its `run.json` exists), resumes from
# its last checkpoint (`checkpoint.json` and the engine's restart file) when it was interrupted, and starts from
# scratch otherwise; a folder made by another plan is refused.

# %%
# NBVAL_IGNORE_OUTPUT
if engine == "numba":
    from softlib.engine.md import simulate
    run = simulate(plan, run_dir, progress=progress)
elif engine == "lammps":
    from softlib.engine.lammps import simulate
    run = simulate(plan, run_dir, ranks=ranks)
else:
    raise ValueError(f"engine must be 'numba' or 'lammps', got {engine!r}")
print(json.dumps({k: run[k] for k in ("wall_time", "steps_per_second") if k in run}, indent=1))

# %% [markdown]
# ## Thermodynamic traces
# Kinetic temperature, potential energy per particle, pressure and the conserved (extended)
# energy over all stages. After the quench the potential energy relaxes; in production it must
# fluctuate around a constant.

# %%
thermo = pd.read_csv(run_dir / "thermo.csv")
fig = figures.thermo_traces(thermo, plan.T)

# %% [markdown]
# ## Is it equilibrated?
#
# Three checks, each with its own noise estimate.
#
# **1. Relaxation time.** The self-intermediate scattering function of A particles at the first
# peak of $S_{AA}(q)$,
# $$F_s(q,t) = \frac{1}{N_A}\Big\langle \sum_{i\in A} \frac{\sin(q\,|\Delta\mathbf r_i(t)|)}{q\,|\Delta\mathbf r_i(t)|}\Big\rangle,
#   \qquad q = 7.25,$$
# (the exact orientational average of $e^{i\mathbf q\cdot\Delta\mathbf r}$), measured on the
# log-spaced blocks; $\tau_\alpha$ is where it crosses $1/e$. Equilibration must span many
# $\tau_\alpha$.

# %%
from softlib.analysis import equilibration
from softlib.io.trajectory import load_positions

times_log, species, box, pos_log = load_positions(run_dir / "log.gsd")
t_fs, fs, tau = equilibration.tau_alpha_from_log(times_log, pos_log, species, plan.log_block)
if not np.isfinite(tau):
    print(f"WARNING: F_s does not reach 1/e within a log block of {plan.log_block:g} tau: "
          "tau_alpha is longer than the block; this run cannot be called equilibrated.")
n_tau_eq = plan.t_equilibrate / tau
n_tau_prod = plan.t_production / tau
fig = figures.relaxation(t_fs, fs, tau, plan.T)

# %% [markdown]
# **2. Stationarity.** A straight line through block averages of $e_{pot}/N$ over production; its
# total change over the run, in units of its own standard error ($z$), must stay below the 99.7 %
# Student-t threshold for 10 blocks (8 degrees of freedom, $z_{max} \approx 4.3$).

# %%
prod = thermo[thermo["stage"] == "production"]
drift = equilibration.energy_drift(prod["time"].to_numpy(), prod["e_pot"].to_numpy(), n_blocks=10)

# %% [markdown]
# **3. Two halves.** $\tau_\alpha$ and the MSD of A at $t = \tau_\alpha$ from the first and the
# second half of production (dense frames), each half cut into four sub-blocks whose spread sets the
# error bar. Disagreement beyond the 99.7 % threshold means the run was still ageing; because each
# error comes from only four sub-blocks, that threshold is the Student-t quantile (about $4.9\sigma$
# for 6 degrees of freedom), not $3\sigma$. When a sub-block is
# shorter than $3\tau_\alpha$ the test has little power and we say so.

# %%
times_lin, _, _, pos_lin = load_positions(run_dir / "linear.gsd")
stride = max(1, len(times_lin) // 8000)   # bound memory and cost; keeps >= 8000 frames
halves = equilibration.halves(times_lin[::stride], pos_lin[::stride], species, tau)
del pos_lin

# %%
# NBVAL_CHECK_OUTPUT
print(f"T = {plan.T:.3f}, sample {plan.sample}, N = {plan.N}")
print(f"tau_alpha = {tau:.3g} tau")
print(f"equilibration = {n_tau_eq:.0f} tau_alpha, production = {n_tau_prod:.0f} tau_alpha")
print(f"e_pot/N = {prod['e_pot'].mean():.3f}, P = {prod['pressure'].mean():.2f}")
print(f"energy drift over production: {drift['total']:+.1e} +- {drift['total_err']:.0e} (z = {drift['z']:.1f})")
for h in ("first", "second"):
    print(f"{h} half: tau_alpha = {halves[h]['tau']:.3g} +- {halves[h]['tau_err']:.1g}, "
          f"MSD_A(tau_alpha) = {halves[h]['msd_tau']:.3f} +- {halves[h]['msd_tau_err']:.1g}")

# %% [markdown]
# The verdict combines the three checks. A run that fails any of them is flagged in its summary;
# downstream notebooks print the flag and leave such a temperature out of fits.

# %%
checks = {
    "equilibration_covers_10_tau": bool(np.isfinite(tau) and n_tau_eq >= 10),
    "no_energy_drift": not drift["drifting"],
    "halves_agree_tau": bool(halves["tau_compare"]["agree"]) if np.isfinite(halves["tau_compare"]["error"]) else None,
    "halves_agree_msd": bool(halves["msd_compare"]["agree"]),
}
equilibrated = all(v is not False for v in checks.values())
print("equilibrated:", "yes" if equilibrated else "NO", checks)
if halves["poor_statistics"]:
    print(f"note: sub-blocks of {halves['sub_block_length']:.0f} tau are shorter than 3 tau_alpha: "
          "the two-halves test has little power at this run length")

summary = {
    "tag": plan.tag, "T": plan.T, "sample": plan.sample, "N": plan.N, "engine": engine,
    "tau_alpha": tau, "n_tau_equilibration": n_tau_eq, "n_tau_production": n_tau_prod,
    "e_pot": float(prod["e_pot"].mean()), "e_pot_err": drift["block_std"] / np.sqrt(drift["n_blocks"]),
    "pressure": float(prod["pressure"].mean()), "temperature": float(prod["T"].mean()),
    "energy_drift": drift, "halves": halves, "checks": checks, "equilibrated": equilibrated,
    "fs": {"t": t_fs, "fs": fs},
    "run_cost": {k: run.get(k) for k in ("wall_time", "steps_per_second", "stage_wall_times") if k in run},
    "provenance": provenance.provenance(**plan.asdict(), engine=engine, ranks=ranks),
}
provenance.write_json(summary_path, summary)
print("summary written to", summary_path)
