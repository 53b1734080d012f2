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
# $$\beta\Phi(\Delta r) = -\frac{1}{2\pi^2}\int_0^{q_{max}} q^2\,dq\;
#   \sum_{uv} C_{uv}(q)\,\sqrt{x_u x_v}\,\big[S_{uv}(q)-\delta_{uv}\big]\;e^{-q^2\Delta r^2/6}.
#   \qquad (3)$$
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
# **Choices beyond the paper** (METHODS 2-3): $S_{uv}(q)$ is computed directly on the reciprocal
# lattice of the box, averaged over `n_frames` frames spread evenly over each production run.
# The METHODS default shell width $2\pi/L$ is coarse for $N=500$ ($0.84\,\sigma^{-1}$) and cuts
# the main peak of $S_{AA}$ in two (its height drops from about 3.2 to 2.2); we use narrower
# shells `dq` with at most `max_vectors` vectors each, about as many vectors in total as the
# METHODS default. The sensitivity to `dq`, `q_max` and `dr_fit` is shown below. With the quick
# preset's 200 time units of production at $T = 0.6$ ($\approx 10\,\tau_\alpha$) only about ten
# configurations are independent, so $S^{av}$ carries a few per cent of sampling noise whatever
# the number of frames.

# %% tags=["parameters"]
preset = "quick"
build_dir = "build"
data_dir = "data"
fig_dir = "figures"
trajectories = None   # optional {T: [paths]} of your own files (any format softlib.io.trajectory.load reads)
timestep = None       # integration step for user files that store step numbers (LAMMPS dumps)
q_max = 40.0          # upper limit of the q integrals (1/sigma)
dq = 0.2              # shell width of S(q) in 1/sigma; None gives 2 pi / L, the METHODS default
max_vectors = 100     # k vectors per shell at most (fixed seed)
dr_fit = 0.03         # harmonic fit window of beta Phi(dr) (sigma)
threshold = 1e-3      # r_lo: where g first exceeds this
n_frames = 200        # frames per temperature, spread evenly over production (linear.gsd)
delta = 0.09          # Gaussian width of the local rdf (for the smeared calibration variant)
temperatures = []     # a subset of the preset's temperatures (default: all)
require_equilibrated = True  # leave out runs that notebook 01 did not find equilibrated

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from mpl_toolkits.axes_grid1.inset_locator import inset_axes

from softlib.analysis import caging as cg
from softlib.pipeline import plotting
from softlib.analysis import structure as st
from softlib.pipeline.runs import select_runs
from softlib.pipeline.presets import get_preset
from softlib.io.store import provenance, save_npz, write_json
from softlib.io.trajectory import load

# papermill runs us from the repository root (--cwd); nbval starts the kernel in the executed
# notebook's folder: climb to the root so that the relative folders mean the same in both
if not Path("softlib").is_dir():
    for up in Path.cwd().parents:
        if (up / "softlib").is_dir() and (up / "notebooks").is_dir():
            os.chdir(up)
            break

plotting.use_style()
get_preset(preset)  # fails early, naming the presets, on a wrong name
out_data = Path(data_dir) / preset
out_fig = Path(fig_dir) / preset
out_build = Path(build_dir) / preset / "structure"
for d in (out_data, out_fig, out_build):
    d.mkdir(parents=True, exist_ok=True)


def preset_runs():
    """{T: [linear.gsd of every usable sample]}: complete runs that passed notebook 01's checks."""
    sel = select_runs(preset, Path(data_dir) / preset / "simulate", temperatures, require_equilibrated)
    for tag, why in sel["dropped"].items():
        print(f"left out {tag}: {why}")
    runs = {}
    for T in sel["temperatures"]:
        for tag in sel["tags"][T]:
            folder = Path(build_dir) / preset / "runs" / tag
            if not (folder / "run.json").exists():  # run.json is written last
                raise FileNotFoundError(
                    f"run {folder} is not complete: run the simulations first (make PRESET={preset} "
                    "simulate) or pass trajectories={T: [paths]}")
            runs.setdefault(T, []).append(str(folder / "linear.gsd"))
    return runs


if trajectories is None:
    sources = preset_runs()
else:
    sources = {float(T): ([p] if isinstance(p, str) else list(p)) for T, p in trajectories.items()}
temperatures = sorted(sources)  # noqa: F811 (the parameter was the request, this is what is used)
print("temperatures:", temperatures)
print("samples per T:", {T: len(v) for T, v in sources.items()})

# %% [markdown]
# ## Partial structure factors and rdfs at every temperature
#
# For each temperature we take `n_frames` frames spread evenly over the production run(s)
# (pooled over samples), and average $g_{uv}(r)$ (histogram, $dr = 0.01$) and $S_{uv}(q)$.
# The arrays are stored under `build/<preset>/structure/` for the later notebooks.

# %%
# NBVAL_IGNORE_OUTPUT
structure = {}
for T in temperatures:
    paths = sources[T]
    per = int(np.ceil(n_frames / len(paths)))  # frames per sample
    acc_S, acc_g, used = 0.0, 0.0, 0
    for path in paths:
        traj = load(path, timestep=timestep)
        frames = np.unique(np.linspace(0, traj.n_frames - 1, min(per, traj.n_frames)).round().astype(int))
        sub = traj[frames]
        r, g = st.partial_rdf(sub, dr=0.01)
        q, S = st.partial_structure_factor(sub, q_max=q_max, max_vectors=max_vectors, dq=dq)
        acc_S, acc_g, used = acc_S + S * len(frames), acc_g + g * len(frames), used + len(frames)
    structure[T] = dict(q=q, S=acc_S / used, r=r, g=acc_g / used, n_frames=used,
                        N=traj.n_particles, box=traj.box, samples=len(paths))
    save_npz(out_build / f"T{T:.3f}.npz", q=q, S=acc_S / used, r=r, g=acc_g / used, n_frames=used)
    print(f"T = {T:.3f}: {used} frames from {len(paths)} sample(s), N = {traj.n_particles}, "
          f"{len(q)} q shells")

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
crystal = {}
for T in temperatures:
    for path in sources[T]:
        traj = load(path, timestep=timestep)
        checks = [st.crystalline_fraction(traj[k].positions[0], traj.species, traj.box)
                  for k in (0, traj.n_frames // 2, traj.n_frames - 1)]
        crystal[path] = {"T": T, "fraction": max(c["fraction"] for c in checks),
                         "mean_q6": float(np.mean([c["mean"] for c in checks]))}
worst = max(c["fraction"] for c in crystal.values())
print(f"largest fraction of crystal-like A particles in any checked frame: {worst:.2f}; "
      f"mean q6bar {min(c['mean_q6'] for c in crystal.values()):.2f} to {max(c['mean_q6'] for c in crystal.values()):.2f}")
for path, c in crystal.items():
    if c["fraction"] > 0.05:
        print(f"WARNING: {path} (T = {c['T']}) has {100 * c['fraction']:.0f} % crystal-like A particles: "
              "its structure is not the supercooled liquid's; rerun it from another seed")

# %%
colors = plt.cm.coolwarm(np.linspace(0, 1, len(temperatures)))
names = {(0, 0): "AA", (0, 1): "AB", (1, 1): "BB"}
fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex="row")
for T, c in zip(temperatures, colors):
    s = structure[T]
    C = st.direct_correlation(s["S"])
    for k, (u, v) in enumerate(names):
        axes[0, k].plot(s["q"], s["S"][:, u, v], color=c, lw=1, label=f"T = {T:.2f}")
        axes[1, k].plot(s["q"], C[:, u, v], color=c, lw=1)
for k, name in enumerate(names.values()):
    axes[0, k].set_title(f"$S_{{{name}}}(q)$")
    axes[1, k].set_title(f"$C_{{{name}}}(q)$")
    axes[1, k].set_xlabel(r"$q\ (\sigma_{AA}^{-1})$")
    axes[1, k].set_ylim(-6, 2)
axes[0, 0].legend()
fig.tight_layout()
plt.show()

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
results = {}
for T in temperatures:
    s = structure[T]
    res = cg.analyse_temperature(T, s["q"], s["S"], s["r"], s["g"], dr_fit=dr_fit,
                                 threshold=threshold, delta=delta)
    res.update(n_frames=s["n_frames"], samples=s["samples"], q_max=q_max, dq=dq,
               max_vectors=max_vectors)
    results[T] = res
    lim = res["limits"]
    print(f"T = {T:.3f}: r_lo,AA = {lim['AA'][0]:.3f}, r_hi,AA = {lim['AA'][1]:.3f}, "
          f"r_lo,AB = {lim['AB'][0]:.3f}, r_hi,AB = {lim['AB'][1]:.3f};  beta Phi_q = {res['Phi_q']:.2f}, "
          f"beta Phi_r = {res['Phi_r']:.3f}, S_av = {res['S_av']:.3e}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharex=True)
for T, c in zip(temperatures, colors):
    s, lim = structure[T], results[T]["limits"]
    for k, (u, v) in enumerate(names):
        axes[k].plot(s["r"], s["g"][u, v], color=c, lw=1, label=f"T = {T:.2f}")
        name = names[(u, v)]
        if name in lim:
            for x in lim[name]:
                axes[k].axvline(x, color=c, lw=0.6, ls=":")
for k, name in enumerate(names.values()):
    axes[k].set_title(f"$g_{{{name}}}(r)$ (dotted: integration limits)")
    axes[k].set_xlabel(r"$r\ (\sigma_{AA})$")
    axes[k].set_xlim(0.5, 3.0)
axes[0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The caging potential and its harmonic fit
#
# Left: $\beta\Phi(\Delta r) - \beta\Phi(0)$ with the fitted parabola $\Delta r^2/(2S^{av})$;
# the harmonic form holds only for small $\Delta r$ (METHODS 2), which is why the fit window is
# short. Right: the integrand of the depth, $q^2 F(q)$, and of the curvature, $q^4 F(q)$
# (scaled), showing how slowly the latter decays: $S^{av}$ depends on $q_{max}$.

# %%
dr = np.linspace(0, 0.2, 201)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for T, c in zip(temperatures, colors):
    s, res = structure[T], results[T]
    phi = cg.caging_potential(s["q"], s["S"], dr)
    axes[0].plot(dr, phi - phi[0], color=c, label=f"T = {T:.2f}")
    axes[0].plot(dr, dr ** 2 / (2 * res["S_av"]), color=c, ls="--", lw=0.8)
    F = cg.caging_integrand(s["q"], s["S"])
    axes[1].plot(s["q"], s["q"] ** 2 * F, color=c, lw=1)
    axes[1].plot(s["q"], s["q"] ** 4 * F / 50, color=c, lw=0.7, ls=":")
axes[0].axvline(dr_fit, color="k", lw=0.6)
axes[0].set_xlabel(r"$\Delta r\ (\sigma_{AA})$")
axes[0].set_ylabel(r"$\beta\Phi(\Delta r) - \beta\Phi(0)$")
axes[0].set_ylim(0, None)
axes[0].legend(title="solid: Eq. 3, dashed: fit")
axes[1].set_xlabel(r"$q\ (\sigma_{AA}^{-1})$")
axes[1].set_ylabel(r"$q^2 F(q)$ (solid), $q^4 F(q)/50$ (dotted)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Sensitivity of $S^{av}$
#
# To the fit window (`dr_fit`), to the upper limit of the $q$ integral (`q_max`, by truncating the
# same $S(q)$), and to the analytic curvature. At the lowest temperature we also recompute $S(q)$
# with the METHODS default shells ($2\pi/L$, 300 vectors) on fewer frames.

# %%
# NBVAL_IGNORE_OUTPUT
windows = [0.02, 0.03, 0.05, 0.1]
qmaxes = [q for q in (20.0, 30.0, q_max) if q <= q_max]
print("S_av x 1e3 at each dr_fit (q_max = %g); last column: analytic curvature" % q_max)
print("   T   " + "  ".join(f"{w:>7}" for w in windows) + "  curvature")
for T in temperatures:
    s = structure[T]
    vals = [cg.softness_fit(s["q"], s["S"], w)["S_av"] * 1e3 for w in windows]
    curv = 1e3 / cg.softness_curvature(s["q"], s["S"])
    print(f"{T:5.2f}  " + "  ".join(f"{v:7.4f}" for v in vals) + f"  {curv:9.4f}")
print("\nS_av x 1e3 at each q_max (dr_fit = %g)" % dr_fit)
print("   T   " + "  ".join(f"{qm:>7}" for qm in qmaxes))
for T in temperatures:
    s = structure[T]
    vals = [cg.softness_fit(s["q"][s["q"] <= qm], s["S"][s["q"] <= qm], dr_fit)["S_av"] * 1e3 for qm in qmaxes]
    print(f"{T:5.2f}  " + "  ".join(f"{v:7.4f}" for v in vals))
T0 = temperatures[0]
traj = load(sources[T0][0], timestep=timestep)
sub = traj[np.unique(np.linspace(0, traj.n_frames - 1, min(50, traj.n_frames)).round().astype(int))]
for label, kw in (("METHODS shells 2 pi/L, 300 vectors", dict(dq=None, max_vectors=300)),
                  (f"dq = {dq}, {max_vectors} vectors", dict(dq=dq, max_vectors=max_vectors))):
    q5, S5 = st.partial_structure_factor(sub, q_max=q_max, **kw)
    fit = cg.softness_fit(q5, S5, dr_fit)
    print(f"T = {T0:.2f}, {sub.n_frames} frames, {label}: S_AA peak {S5[:, 0, 0].max():.2f}, "
          f"beta Phi_q = {fit['Phi_q']:.2f}, S_av = {fit['S_av']:.4e}")

# %% [markdown]
# ## Fig. 1: the three linear relations and the calibration

# %%
cal = cg.calibrate(results, provenance=provenance(
    preset=preset, N=int(structure[temperatures[0]]["N"]), temperatures=temperatures,
    sources={f"{T:.3f}": [str(p) for p in sources[T]] for T in temperatures},
    q_max=q_max, dq=dq, max_vectors=max_vectors, dr_fit=dr_fit, threshold=threshold,
    n_frames=n_frames, delta=delta))
cal["crystal_check"] = crystal
write_json(out_data / "calibration.json", cal)
col = {k: np.array([results[T][k] for T in temperatures]) for k in ("S_av", "Phi_q", "Phi_r")}
inv_s = 1 / col["S_av"]


def line(ax, x, a, b, r2, label):
    xx = np.linspace(x.min(), x.max(), 50)
    ax.plot(xx, a + b * xx, "k-", lw=0.8, label=f"{label}, $R^2$ = {r2:.3f}")


fig, ax = plt.subplots(figsize=(5.5, 4.5))
ax.scatter(col["Phi_q"], inv_s, c=colors, s=40, zorder=3)
line(ax, col["Phi_q"], cal["a0"], cal["a1"], cal["r2"]["a"], r"$a_0 + a_1\beta\Phi_q$")
ax.set_xlabel(r"$\beta\Phi_q^{av}(0)$")
ax.set_ylabel(r"$1/S^{av}\ (\sigma_{AA}^{-2})$")
ax.legend(loc="upper right", fontsize=8)
ins = inset_axes(ax, width="38%", height="35%", loc="lower left", borderpad=2.5)
ins.scatter(col["Phi_r"], col["Phi_q"], c=colors, s=15, zorder=3)
xx = np.linspace(col["Phi_r"].min(), col["Phi_r"].max(), 50)
ins.plot(xx, cal["b0"] + cal["b1"] * xx, "k-", lw=0.8)
ins.set_xlabel(r"$\beta\Phi_r$", fontsize=8)
ins.set_ylabel(r"$\beta\Phi_q$", fontsize=8)
ins.tick_params(labelsize=7)
ins.yaxis.set_label_position("right")
ins.yaxis.tick_right()
ins.set_title(f"$R^2$ = {cal['r2']['b']:.3f}", fontsize=8)
for T, c, x, y in zip(temperatures, colors, col["Phi_q"], inv_s):
    ax.annotate(f"{T:.2f}", (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)
fig.subplots_adjust(left=0.17, bottom=0.13, right=0.96, top=0.96)  # tight_layout ignores insets
plotting.savefig(fig, "fig1a", out_fig)
plt.show()

fig, ax = plt.subplots(figsize=(5.5, 4.5))
ax.scatter(col["Phi_r"], inv_s, c=colors, s=40, zorder=3)
line(ax, col["Phi_r"], cal["c0"], cal["c1"], cal["r2"]["c"], r"$c_0 + c_1\beta\Phi_r$ (Eq. 7)")
for T, x, y in zip(temperatures, col["Phi_r"], inv_s):
    ax.annotate(f"{T:.2f}", (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)
ax.set_xlabel(r"$\beta\Phi_r^{av}(0)$")
ax.set_ylabel(r"$1/S^{av}\ (\sigma_{AA}^{-2})$")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()
plotting.savefig(fig, "fig1b", out_fig)
plt.show()

# %% [markdown]
# ## Results
#
# $c_0, c_1$ (Eq. 7) with their standard errors from the fit over temperatures, and the chained
# values $a_0 + a_1 b_0$, $a_1 b_1$, which agree exactly only if the three lines are exact.
# The `smeared` variant fits $1/S^{av}$ against the depth of the $\delta$-smeared average rdf,
# the quantity that single-particle rdfs average to (METHODS 4; used in notebook 03).

# %%
# NBVAL_CHECK_OUTPUT
sig = plotting.sig

print(f"c0 = {sig(cal['c0'])} +- {sig(cal['c0_err'], 1)}   (1/sigma^2)")
print(f"c1 = {sig(cal['c1'])} +- {sig(cal['c1_err'], 1)}")
print(f"a0 = {sig(cal['a0'])} +- {sig(cal['a0_err'], 1)},  a1 = {sig(cal['a1'])} +- {sig(cal['a1_err'], 1)}")
print(f"b0 = {sig(cal['b0'])} +- {sig(cal['b0_err'], 1)},  b1 = {sig(cal['b1'])} +- {sig(cal['b1_err'], 1)}")
print("R^2:", {k: round(v, 3) for k, v in cal["r2"].items()})
sm = cal["smeared"]
print(f"smeared (delta = {sm['delta']}): c0 = {sig(sm['c0'])} +- {sig(sm['c0_err'], 1)}, "
      f"c1 = {sig(sm['c1'])} +- {sig(sm['c1_err'], 1)}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"chained: a0 + a1 b0 = {cal['a0'] + cal['a1'] * cal['b0']:.4g}, a1 b1 = {cal['a1'] * cal['b1']:.4g}")
print("trend with falling T: 1/S_av", "increases" if np.all(np.diff(inv_s) < 0) else "is NOT monotonic",
      "| Phi_q", "deepens" if np.all(np.diff(col["Phi_q"]) > 0) else "is NOT monotonic",
      "| Phi_r", "deepens" if np.all(np.diff(col["Phi_r"]) > 0) else "is NOT monotonic")
print("written:", out_data / "calibration.json")
