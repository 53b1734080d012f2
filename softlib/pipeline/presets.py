"""Named presets: one word fixes N, the temperatures, the samples and every run length.

The Makefile, every notebook's ``parameters`` cell and the tests use these, so
``PRESET=quick`` means the same thing everywhere. Lengths are in LJ time units
(tau); ``tau_guess`` is only a planning estimate of the alpha-relaxation time for
choosing run lengths: the notebooks measure tau_alpha and report how many
relaxation times each run really covered.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: planning estimates of tau_alpha (F_s(q=7.25, t) = 1/e, A particles, rho = 1.2)
#: from published KA data and our own short runs; used only to size runs.
TAU_GUESS = {0.45: 1500.0, 0.47: 600.0, 0.50: 250.0, 0.53: 110.0, 0.56: 50.0, 0.60: 20.0,
             0.65: 9.0, 0.70: 5.0, 0.80: 2.2, 1.00: 0.9, 2.00: 0.2}


def tau_guess(T):
    """Interpolated planning estimate of tau_alpha at temperature T (log-linear in 1/T)."""
    import numpy as np

    ts = np.array(sorted(TAU_GUESS))
    taus = np.array([TAU_GUESS[t] for t in ts])
    return float(np.exp(np.interp(1.0 / T, 1.0 / ts[::-1], np.log(taus[::-1]))))


@dataclass(frozen=True)
class RunPlan:
    """Everything one (T, sample) simulation needs to know."""

    T: float
    sample: int
    seed: int
    N: int
    rho: float
    dt: float
    t_melt: float          # at T_melt, from a random start
    T_melt: float
    t_equilibrate: float   # at T after the quench
    t_production: float
    dense_interval: float  # linear schedule (p_hop)
    log_first: float       # first log-spaced frame after a block start
    log_per_decade: int    # log-spaced frames per decade
    log_block: float       # length of one log-spaced block (restarts from each block start)
    thermo_interval: float
    checkpoint_interval: float

    def asdict(self):
        return asdict(self)

    @property
    def tag(self):
        """Folder name of this run, e.g. 'T0.600_s0'."""
        return f"T{self.T:.3f}_s{self.sample}"


@dataclass(frozen=True)
class Preset:
    name: str
    N: int
    temperatures: tuple
    samples_low: int              # samples at T <= T_low
    T_low: float
    n_eq: float                   # equilibration length in units of tau_guess
    n_prod: float                 # production length in units of tau_guess
    t_eq_min: float
    t_prod_min: float
    dense_interval: float
    rho: float = 1.2
    dt: float = 0.0025
    T_melt: float = 2.0
    t_melt: float = 20.0
    seed: int = 2021
    description: str = ""
    extra: dict = field(default_factory=dict)

    def samples(self, T):
        return self.samples_low if T <= self.T_low + 1e-9 else 1

    def plan(self, T, sample=0):
        """The RunPlan of one temperature and sample."""
        T = float(T)
        tau = tau_guess(T)
        t_eq = max(self.t_eq_min, self.n_eq * tau)
        t_prod = max(self.t_prod_min, self.n_prod * tau)
        # round to whole time units so that frame times are clean
        t_eq, t_prod = float(round(t_eq)), float(round(t_prod))
        log_block = float(round(min(t_prod, max(10.0, 5.0 * tau))))
        return RunPlan(T=T, sample=sample, seed=self.seed + 1000 * sample + int(round(1000 * T)),
                       N=self.N, rho=self.rho, dt=self.dt, t_melt=self.t_melt, T_melt=self.T_melt,
                       t_equilibrate=t_eq, t_production=t_prod, dense_interval=self.dense_interval,
                       log_first=0.01, log_per_decade=8, log_block=log_block,
                       thermo_interval=1.0, checkpoint_interval=max(50.0, min(500.0, t_prod / 20)))

    def plans(self):
        """All RunPlans of the preset, lowest temperature (most expensive) first."""
        return [self.plan(T, s) for T in sorted(self.temperatures) for s in range(self.samples(T))]


PRESETS = {
    "quick": Preset(name="quick", N=500, temperatures=(0.60, 0.70, 0.80, 1.00), samples_low=1,
                    T_low=0.0, n_eq=20.0, n_prod=10.0, t_eq_min=150.0, t_prod_min=100.0,
                    dense_interval=0.1,
                    description="CI and a first look: all six notebooks in minutes on 2 cores"),
    "paper": Preset(name="paper", N=1000, temperatures=(0.47, 0.50, 0.53, 0.56, 0.60, 0.65, 0.70, 0.80),
                    samples_low=2, T_low=0.50, n_eq=20.0, n_prod=20.0, t_eq_min=200.0,
                    t_prod_min=1000.0, dense_interval=0.25,
                    description="the reproduction on a 2-core machine: hours, checkpointed"),
    "seed": Preset(name="seed", N=4000, temperatures=(0.47, 0.50, 0.53, 0.56, 0.60, 0.65, 0.70, 0.80),
                   samples_low=1, T_low=0.0, n_eq=20.0, n_prod=20.0, t_eq_min=200.0,
                   t_prod_min=1000.0, dense_interval=0.25,
                   description="the paper's own size, for larger machines (LAMMPS with MPI)"),
}


#: iso-configurational ensembles per preset (notebook 08, ``make propensity``): at each temperature K
#: starting configurations ``spacing`` tau_alpha apart, M replicas each, every replica ``t_max``
#: tau_alpha long. The paper preset: T = 0.56 and 0.65 in full (19 x 800 = 15200 A particles; 0.65 to
#: 3 tau_alpha, 0.56 to 1.5), T = 0.50 as far as two cores go in a session (2 configurations, to tau_alpha).
PROPENSITY = {
    "quick": {0.80: dict(K=2, M=4, t_max=2.0, spacing=2.0)},
    "paper": {0.65: dict(K=19, M=32, t_max=3.0, spacing=2.0),
              0.56: dict(K=19, M=32, t_max=1.5, spacing=2.0),
              0.50: dict(K=2, M=32, t_max=1.0, spacing=2.0)},
}


def get_preset(name):
    """The Preset called ``name`` ('quick', 'paper' or 'seed')."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}: choose one of {sorted(PRESETS)}") from None


def run_tags(name):
    """Folder names of all runs of a preset, most expensive first (stdlib only: the Makefile calls it)."""
    p = get_preset(name)
    return [f"T{T:.3f}_s{s}" for T in sorted(p.temperatures) for s in range(p.samples(T))]


if __name__ == "__main__":  # pragma: no cover - used by the Makefile
    import sys

    what, name = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    if what == "names":
        print(" ".join(sorted(PRESETS)))
    elif what == "tags":
        print(" ".join(run_tags(name)))
    elif what == "propensity":
        print(" ".join(f"{T:.3f}" for T in sorted(PROPENSITY.get(name, {}), reverse=True)))
    elif what == "temperatures":
        print(" ".join(f"{T:.3f}" for T in sorted(get_preset(name).temperatures)))
    else:
        raise SystemExit(f"usage: python -m softlib.pipeline.presets names | tags PRESET | temperatures PRESET | propensity PRESET "
                         f"(got {what})")
