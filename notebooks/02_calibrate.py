# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 — Average structure, the caging potential and the calibration of Eq. 7
#
# The local softness of notebook 03 is one line away from a single-particle rdf:
# $S_i = 1/(c_0 + c_1\,\beta\Phi_r^i)$. This notebook measures $c_0$ and $c_1$ from the
# *average* structure at every temperature of the preset (the paper's Fig. 1).
#
# ## The mean-field cage (Eqs. 3, 4)
#
# Hold the neighbours of a tagged particle frozen in their average arrangement and displace
# the particle by $\Delta r$ from the centre of its cage. In the mean-field theory the free
# energy cost of that displacement is set by the partial structure factors
# $S_{uv}(q)$ and the matrix of direct correlation functions $\mathbf C(q) = \mathbf 1 - \mathbf S(q)^{-1}$:
#
# $$\begin{aligned}\beta\Phi(\Delta r) = -\frac{1}{2\pi^2}\int_0^{q_{max}} q^2\,dq\;
#   &\sum_{uv} C_{uv}(q)\,\sqrt{x_u x_v}\\
#   &\times\big[S_{uv}(q)-\delta_{uv}\big]\;e^{-q^2\Delta r^2/6}.\end{aligned} \qquad (3)$$
#
# The Gaussian factor is the Debye–Waller-like smearing of a particle spread over a distance
# $\Delta r$; at $\Delta r = 0$ it is one and the potential reaches its minimum, the depth
#
# $$\beta\Phi_q \equiv \beta\Phi(0) = -\frac{1}{2\pi^2}\int_0^{q_{max}} q^2\,dq\;
#   \sum_{uv} C_{uv}\sqrt{x_u x_v}\,(S_{uv}-\delta_{uv}). \qquad (4)$$
#
# Close to the minimum the cage is harmonic, $\beta\Phi(\Delta r) - \beta\Phi(0) = \Delta r^2/(2S^{av})$:
# the **softness** $S^{av}$ is the inverse stiffness of the cage, large for a shallow, wide cage.
# We fit this parabola on $0 \le \Delta r \le \Delta r_{fit}$ and, as a check, take the exact
# curvature at the origin, $1/S^{av} = \frac{1}{6\pi^2}\int q^4 \sum_{uv} C_{uv}\sqrt{x_u x_v}(S_{uv}-\delta_{uv})\,dq$.
# The paper finds $1/S^{av}$ linear in the depth: $1/S^{av} = a_0 + a_1\,\beta\Phi_q$ (Fig. 1a).
#
# ## The same depth from the rdf (Eqs. 5, 6)
#
# A single particle has no structure factor, but it has a local rdf. Written in real space,
# the depth seen by a tagged particle of species A becomes an integral over its neighbour shell,
#
# $$\beta\Phi_r = -\frac12\sum_{v\in\{A,B\}}\sqrt{x_A x_v}\int_{r_{lo,Av}}^{r_{hi,Av}}
#    4\pi r^2\rho\; C_{Av}(r)\, g_{Av}(r)\,dr, \qquad (5)$$
#
# and the unknown real-space $C(r)$ is replaced by the hypernetted-chain closure without bridge
# function,
#
# $$C_{uv}(r) = -\beta U_{uv}(r) + \big(g_{uv}(r)-1\big) - \ln g_{uv}(r). \qquad (6)$$
#
# Only the product $C g = g(-\beta U + g - 1 - \ln g)$ enters, and it stays finite where
# $g \to 0$. The integral runs over the first shell: from where $g_{Av}$ first exceeds a small
# threshold (below it $\beta U$ is huge and a little noise in $g$ would dominate) to the first
# minimum of $g_{Av}$. HNC is approximate, so $\beta\Phi_r \ne \beta\Phi_q$, but the two are
# linear in each other, $\beta\Phi_q = b_0 + b_1\beta\Phi_r$ (inset of Fig. 1a). Chaining the two
# lines gives the calibration used for single particles,
#
# $$1/S^{av} = a_0 + a_1(b_0 + b_1\beta\Phi_r) = c_0 + c_1\,\beta\Phi_r, \qquad (7)$$
#
# which we also fit directly (Fig. 1b). Units: lengths in $\sigma_{AA}$, energies in $k_BT$;
# $S^{av}$ has units of length$^2$.
#
# **Choices beyond the paper** (docs/methods.md §2-3): $S_{uv}(q)$ is computed directly on the reciprocal
# lattice of the box, averaged over `n_frames` frames spread evenly over each production run.
# The textbook shell width $2\pi/L$ is coarse for $N=500$ ($0.84\,\sigma^{-1}$) and cuts
# the main peak of $S_{AA}$ in two (its height drops from about 3.2 to 2.2); we use narrower
# shells `dq` with at most `max_vectors` vectors each, about as many vectors in total as the
# textbook choice. The sensitivity to `dq`, `q_max` and `dr_fit` is shown below. With the quick
# preset's 200 time units of production at $T = 0.6$ ($\approx 10\,\tau_\alpha$) only about ten
# configurations are independent, so $S^{av}$ carries a few per cent of sampling noise whatever
# the number of frames.

# %% tags=["parameters"]
preset = "quick"
dataset = ""          # a data set file (TOML) of your own trajectories; when set, preset is ignored (README)
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
trajectories = None   # optional {T: [paths]} of your own files (any format softlib.io.trajectory.load reads)
timestep = None       # integration step for user files that store step numbers (LAMMPS dumps)
q_max = 40.0          # upper limit of the q integrals (1/sigma)
dq = 0.2              # shell width of S(q) in 1/sigma; None gives 2 pi / L, the textbook choice
max_vectors = 100     # k vectors per shell at most (fixed seed)
dr_fit = 0.03         # harmonic fit window of beta Phi(dr) (sigma)
threshold = 1e-3      # r_lo: where g first exceeds this
n_frames = 200        # frames per temperature, spread evenly over production (linear.gsd)
delta = 0.09          # Gaussian width of the local rdf (for the smeared calibration variant)
temperatures = []     # a subset of the preset's temperatures (default: all)
require_equilibrated = True  # leave out runs that notebook 01 did not find equilibrated

# %%
# NBVAL_CHECK_OUTPUT
import numpy as np

from softlib.pipeline import calibration_stage as cs, figures, layout
from softlib.pipeline.plotting import na, sig

# a data set: its file is read and checked here (keys, files, density and composition), then every run's
# equilibration on its dense frames (stored in <data>/<name>/simulate/, reused by 03-06); no simulation runs
ctx = layout.setup(preset, build_dir, data_dir, fig_dir, temperatures, require_equilibrated,
                   select=trajectories is None or bool(dataset), extra_temperatures=list(trajectories or ()),
                   dataset=dataset, min_temperatures=2)
sources = cs.calibration_sources(ctx, trajectories)
temperatures = sorted(sources)  # noqa: F811 (the parameter was the request, this is what is used)
if len(temperatures) < 2:
    raise ValueError(f"the calibration of Eq. 7 needs at least two temperatures, got {temperatures}")
system = cs.system_of(sources, timestep)
print("temperatures:", temperatures)
print("samples per T:", {T: len(v) for T, v in sources.items()})
print(f"density and composition used: rho = {system['rho']:.5g}, x = ({system['x'][0]:.4g}, {system['x'][1]:.4g})"
      + (" (Kob-Andersen)" if system["model"] else " (the data's, not Kob-Andersen's)"))
if len(temperatures) == 2:
    print("two temperatures: each line of Fig. 1 goes exactly through two points; c0, c1 are exact, their "
          "errors and R^2 are unavailable (n/a; null in calibration.json), and linearity is not tested")

# %% [markdown]
# ## Partial structure factors and rdfs at every temperature
#
# For each temperature we take `n_frames` frames spread evenly over the production run(s)
# (pooled over samples), and average $g_{uv}(r)$ (histogram, $dr = 0.01$) and $S_{uv}(q)$.
# The arrays are stored under `build/<preset>/structure/` for the later notebooks.

# %%
# NBVAL_IGNORE_OUTPUT
structure = cs.pool_structure(sources, n_frames, q_max, max_vectors, dq, timestep, layout=ctx.layout)
for T, s in structure.items():
    print(f"T = {T:.3f}: {s['n_frames']} frames from {s['samples']} sample(s), N = {s['N']}, "
          f"{len(s['q'])} q shells")

# %% [markdown]
# ## Still a liquid?
#
# A small Kob-Andersen system held long at low temperature can crystallise, and a partly
# crystalline run would bias every structural average below. We check the first, middle and
# last frame of every run with the averaged bond-order parameter $\bar q_6$ of the A particles
# (`structure.crystalline_fraction`, freud): the liquid has $\bar q_6 \approx 0.15$-$0.25$, an fcc
# crystal about 0.5; we count A particles above 0.35.

# %%
# NBVAL_CHECK_OUTPUT
crystal = cs.crystal_check(sources, timestep)
worst = max(c["fraction"] for c in crystal.values())
print(f"largest fraction of crystal-like A particles in any checked frame: {worst:.2f}; "
      f"mean q6bar {min(c['mean_q6'] for c in crystal.values()):.2f} to {max(c['mean_q6'] for c in crystal.values()):.2f}")
for path, c in crystal.items():
    if c["fraction"] > 0.05:
        print(f"WARNING: {path} (T = {c['T']}) has {100 * c['fraction']:.0f} % crystal-like A particles: "
              "its structure is not the supercooled liquid's; rerun it from another seed")

# %%
fig = figures.structure_factors(structure, ctx.colors)

# %%
# NBVAL_CHECK_OUTPUT
for T in temperatures:
    s = structure[T]
    i = np.argmax(s["S"][:, 0, 0])
    j = np.argmax(s["g"][0, 0])
    print(f"T = {T:.2f}: S_AA peak {s['S'][i, 0, 0]:.1f} at q = {s['q'][i]:.1f};  "
          f"g_AA peak {s['g'][0, 0, j]:.1f} at r = {s['r'][j]:.2f}")

# %% [markdown]
# ## Integration limits and the real-space depth
#
# $r_{lo}$ is where $g_{Av}$ first rises above the threshold, $r_{hi}$ the first minimum after
# the first peak (found on $g$ smoothed over 0.05 and placed by a parabola).

# %%
# NBVAL_IGNORE_OUTPUT
results = cs.analyse_temperatures(structure, dr_fit=dr_fit, threshold=threshold, delta=delta, system=system,
                                  q_max=q_max, dq=dq, max_vectors=max_vectors)
for T, res in results.items():
    lim = res["limits"]
    print(f"T = {T:.3f}: r_lo,AA = {lim['AA'][0]:.3f}, r_hi,AA = {lim['AA'][1]:.3f}, "
          f"r_lo,AB = {lim['AB'][0]:.3f}, r_hi,AB = {lim['AB'][1]:.3f};  beta Phi_q = {res['Phi_q']:.2f}, "
          f"beta Phi_r = {res['Phi_r']:.3f}, S_av = {res['S_av']:.3e}")

# %%
fig = figures.rdfs_with_limits(structure, results, ctx.colors)

# %% [markdown]
# ## The caging potential and its harmonic fit
#
# Left: $\beta\Phi(\Delta r) - \beta\Phi(0)$ with the fitted parabola $\Delta r^2/(2S^{av})$;
# the harmonic form holds only for small $\Delta r$ (docs/methods.md §2), which is why the fit window is
# short. Right: the integrand of the depth, $q^2 F(q)$, and of the curvature, $q^4 F(q)$
# (scaled), showing how slowly the latter decays: $S^{av}$ depends on $q_{max}$.

# %%
fig = figures.caging_potentials(structure, results, ctx.colors, dr_fit)

# %% [markdown]
# ## Sensitivity of $S^{av}$
#
# To the fit window (`dr_fit`), to the upper limit of the $q$ integral (`q_max`, by truncating the
# same $S(q)$), and to the analytic curvature. At the lowest temperature we also recompute $S(q)$
# with the textbook shells ($2\pi/L$, 300 vectors) on fewer frames.

# %%
# NBVAL_IGNORE_OUTPUT
sens = cs.sensitivity(structure, q_max=q_max, dr_fit=dr_fit, x=tuple(system["x"]))
print("S_av x 1e3 at each dr_fit (q_max = %g); last column: analytic curvature" % q_max)
print("   T   " + "  ".join(f"{w:>7}" for w in sens["windows"]) + "  curvature")
for T in temperatures:
    print(f"{T:5.2f}  " + "  ".join(f"{1e3 * v:7.4f}" for v in sens["by_window"][T])
          + f"  {1e3 * sens['curvature'][T]:9.4f}")
print("\nS_av x 1e3 at each q_max (dr_fit = %g)" % dr_fit)
print("   T   " + "  ".join(f"{qm:>7}" for qm in sens["q_maxes"]))
for T in temperatures:
    print(f"{T:5.2f}  " + "  ".join(f"{1e3 * v:7.4f}" for v in sens["by_q_max"][T]))
for row in cs.shell_check(sources[temperatures[0]][0], q_max, dq, max_vectors, dr_fit, timestep=timestep,
                          x=tuple(system["x"])):
    print(f"T = {temperatures[0]:.2f}, {row['n_frames']} frames, {row['label']}: S_AA peak {row['S_AA_peak']:.2f}, "
          f"beta Phi_q = {row['Phi_q']:.2f}, S_av = {row['S_av']:.4e}")

# %% [markdown]
# ## Fig. 1: the three linear relations and the calibration

# %%
cal = cs.write_calibration(ctx.layout, results, structure, crystal, sources, system=system, q_max=q_max, dq=dq,
                           max_vectors=max_vectors, dr_fit=dr_fit, threshold=threshold, n_frames=n_frames,
                           delta=delta)
col = cs.calibration_columns(results)
fig = figures.fig1a(col, cal, ctx.colors)
ctx.savefig(fig, "fig1a")

# %%
fig = figures.fig1b(col, cal, ctx.colors)
ctx.savefig(fig, "fig1b")

# %% [markdown]
# ## Results
#
# $c_0, c_1$ (Eq. 7) with their standard errors from the fit over temperatures, and the chained
# values $a_0 + a_1 b_0$, $a_1 b_1$, which agree exactly only if the three lines are exact.
# The `smeared` variant fits $1/S^{av}$ against the depth of the $\delta$-smeared average rdf,
# the quantity that single-particle rdfs average to (docs/methods.md §3; used in notebook 03).

# %%
# NBVAL_CHECK_OUTPUT
print(f"c0 = {sig(cal['c0'])} +- {na(cal['c0_err'], 1)}   (1/sigma^2)")
print(f"c1 = {sig(cal['c1'])} +- {na(cal['c1_err'], 1)}")
print(f"a0 = {sig(cal['a0'])} +- {na(cal['a0_err'], 1)},  a1 = {sig(cal['a1'])} +- {na(cal['a1_err'], 1)}")
print(f"b0 = {sig(cal['b0'])} +- {na(cal['b0_err'], 1)},  b1 = {sig(cal['b1'])} +- {na(cal['b1_err'], 1)}")
print("R^2:", {k: (round(v, 3) if v is not None else "n/a") for k, v in cal["r2"].items()})
sm = cal["smeared"]
print(f"smeared (delta = {sm['delta']}): c0 = {sig(sm['c0'])} +- {na(sm['c0_err'], 1)}, "
      f"c1 = {sig(sm['c1'])} +- {na(sm['c1_err'], 1)}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"chained: a0 + a1 b0 = {cal['a0'] + cal['a1'] * cal['b0']:.4g}, a1 b1 = {cal['a1'] * cal['b1']:.4g}")
print("trend with falling T: 1/S_av", "increases" if np.all(np.diff(col["inv_S"]) < 0) else "is NOT monotonic",
      "| Phi_q", "deepens" if np.all(np.diff(col["Phi_q"]) > 0) else "is NOT monotonic",
      "| Phi_r", "deepens" if np.all(np.diff(col["Phi_r"]) > 0) else "is NOT monotonic")
print("written:", ctx.layout.calibration)
