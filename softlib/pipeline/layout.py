"""Where everything lives: the folders of build/, data/ and figures/ in one object, and the notebooks' set-up.

Every notebook starts with ``ctx = layout.setup(preset, build_dir, data_dir, fig_dir, ...)``: the plotting
style, the preset checked, the output folders created, the usable runs selected (and those left out
printed), one colour per temperature and a ``savefig`` bound to the figure folder.

Folder layout of one preset (``<build>``, ``<data>``, ``<figures>`` are the three roots)::

    <build>/<preset>/runs/<tag>/            one simulation (run.json, linear.gsd, log.gsd, thermo.csv)
    <build>/<preset>/softness/<tag>/        local depth and softness of every A particle (notebook 03)
    <build>/<preset>/structure/T0.600.npz   average S(q), g(r) per temperature (notebook 02)
    <build>/<preset>/rearrangements_tables.npz  per-particle counts behind P_R(S) (notebook 05)
    <build>/<preset>/nb/                    executed notebooks
    <data>/<preset>/simulate/<tag>.json     equilibration summary of one run (notebook 01)
    <data>/<preset>/<stage>.json            calibration, local_softness, lifetime, rearrangements, results
    <data>/<preset>/COMPARISON.md           the paper against our numbers (notebook 06)
    <figures>/<preset>/<name>.png|pdf
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

#: the JSON file each analysis notebook writes into <data>/<preset>/
STAGE_FILES = {"calibration": "calibration.json", "local_softness": "local_softness.json",
               "lifetime": "lifetime.json", "rearrangements": "rearrangements.json", "results": "results.json"}


def repository_root():
    """The checkout that holds this softlib (a folder with ``softlib/`` and ``notebooks/``), else None."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "softlib").is_dir() and (root / "notebooks").is_dir() else None


def _resolve(path, root):
    p = Path(path).expanduser()
    return p if p.is_absolute() else (Path(root) / p)


@dataclass(frozen=True)
class Layout:
    """All paths of one preset.

    Relative roots are taken relative to ``root`` (default: the repository that holds softlib, so a
    notebook executed from any folder, e.g. by nbval from ``build/<preset>/nb``, finds the same files;
    outside a checkout, the current folder).
    """

    preset: str
    build_dir: Path = Path("build")
    data_dir: Path = Path("data")
    fig_dir: Path = Path("figures")
    root: Path | None = field(default=None, compare=False)

    def __post_init__(self):
        root = self.root if self.root is not None else (repository_root() or Path.cwd())
        object.__setattr__(self, "root", Path(root))
        for name in ("build_dir", "data_dir", "fig_dir"):
            object.__setattr__(self, name, _resolve(getattr(self, name), root))

    # ------------------------------------------------------------------ build/<preset>
    @property
    def build(self):
        return self.build_dir / self.preset

    @property
    def runs(self):
        return self.build / "runs"

    @property
    def softness(self):
        return self.build / "softness"

    @property
    def structure(self):
        return self.build / "structure"

    @property
    def nb(self):
        return self.build / "nb"

    @property
    def tables(self):
        """Per-particle counts behind P_R(S), written by notebook 05, read by 06."""
        return self.build / "rearrangements_tables.npz"

    def run(self, tag):
        """Folder of one simulation, e.g. ``run('T0.600_s0')``."""
        return self.runs / tag

    def trajectory(self, tag, schedule="linear"):
        """``<run>/<schedule>.gsd`` (schedule 'linear' or 'log')."""
        return self.run(tag) / f"{schedule}.gsd"

    def softness_of(self, tag):
        """Folder of the softness files of one run."""
        return self.softness / tag

    def structure_of(self, T):
        """Averaged structure of one temperature (notebook 02)."""
        return self.structure / f"T{float(T):.3f}.npz"

    # ------------------------------------------------------------------ data/<preset>, figures/<preset>
    @property
    def data(self):
        return self.data_dir / self.preset

    @property
    def figures(self):
        return self.fig_dir / self.preset

    @property
    def summaries(self):
        """Equilibration summaries of notebook 01."""
        return self.data / "simulate"

    def summary(self, tag):
        return self.summaries / f"{tag}.json"

    def json(self, stage):
        """``<data>/<preset>/<stage>.json`` for a stage of STAGE_FILES ('calibration', 'results', ...)."""
        try:
            return self.data / STAGE_FILES[stage]
        except KeyError:
            raise ValueError(f"unknown stage {stage!r}: one of {sorted(STAGE_FILES)}") from None

    @property
    def calibration(self):
        return self.json("calibration")

    @property
    def comparison(self):
        return self.data / "COMPARISON.md"

    def figure(self, name):
        """``<figures>/<preset>/<name>`` without extension (savefig adds .png and .pdf)."""
        return self.figures / name

    # ------------------------------------------------------------------ helpers
    def for_preset(self, preset):
        """The same three roots for another preset (e.g. the finite-size comparison)."""
        return Layout(preset, self.build_dir, self.data_dir, self.fig_dir, self.root)

    def makedirs(self):
        """Create the output folders of the analysis notebooks."""
        for d in (self.data, self.figures, self.build):
            d.mkdir(parents=True, exist_ok=True)
        return self


class TemperatureColors(dict):
    """{T: colour}; a temperature that differs from a key by less than 1e-6 finds that key's colour."""

    def __missing__(self, T):
        for k, v in self.items():
            if abs(float(k) - float(T)) < 1e-6:
                return v
        raise KeyError(f"no colour for T = {T}: the palette has {sorted(self)}")


def temperature_colors(temperatures, cmap="viridis", span=(0.0, 0.88)):
    """One colour per temperature, coldest darkest (the light end of the map is cut: unreadable on white).

    Build it from *all* temperatures of a preset, not from a subset, so that a temperature keeps its
    colour in every figure of every notebook.
    """
    import matplotlib

    ts = sorted({round(float(t), 9) for t in temperatures})
    cm = matplotlib.colormaps[cmap]
    if len(ts) == 1:
        return TemperatureColors({ts[0]: tuple(cm(span[0]))})
    step = (span[1] - span[0]) / (len(ts) - 1)
    return TemperatureColors({t: tuple(cm(span[0] + k * step)) for k, t in enumerate(ts)})


@dataclass
class Context:
    """What a notebook needs after its set-up (see :func:`setup`)."""

    layout: Layout
    temperatures: list
    tags: dict
    dropped: dict
    colors: TemperatureColors
    savefig: object

    @property
    def T_low(self):
        return self.temperatures[0]

    @property
    def preset(self):
        return self.layout.preset

    def samples(self, T):
        """Run tags of temperature T."""
        return self.tags[T]

    @property
    def all_tags(self):
        return [t for T in self.temperatures for t in self.tags[T]]


def setup(preset, build_dir="build", data_dir="data", fig_dir="figures", temperatures=None,
          require_equilibrated=True, select=True, extra_temperatures=(), root=None, quiet=False):
    """The set-up of an analysis notebook in one call.

    Applies the plotting style, checks the preset name, creates ``<data>/<preset>``,
    ``<figures>/<preset>`` and ``<build>/<preset>``, and (``select=True``) selects the runs the analysis
    may use (:func:`softlib.pipeline.runs.select_runs`: equilibrated where required, complete in
    ``<build>/<preset>/runs``), printing those left out.

    Parameters
    ----------
    preset, build_dir, data_dir, fig_dir
        The notebook parameters of the same names.
    temperatures : sequence of float, optional
        A subset of the preset's temperatures (default: all).
    require_equilibrated : bool
        Leave out runs that notebook 01 did not find equilibrated.
    select : bool
        False: no run selection (``temperatures``, ``tags`` are then empty unless
        ``temperatures`` is given); for notebooks that read only stored results or user files.
    extra_temperatures : sequence of float
        Temperatures outside the preset that need a colour (user trajectories).

    Returns
    -------
    Context with ``layout``, ``temperatures``, ``tags`` ({T: [run tags]}), ``dropped`` ({tag: reason}),
    ``colors`` ({T: colour}, the same for every notebook of the preset) and ``savefig(fig, name)``.
    """
    from . import plotting
    from .presets import get_preset
    from .runs import select_runs

    plotting.use_style()
    P = get_preset(preset)  # fails early, naming the presets, on a wrong name
    lay = Layout(preset, build_dir, data_dir, fig_dir, root).makedirs()
    if select:
        sel = select_runs(preset, lay.summaries, temperatures, require_equilibrated, lay.runs)
        if not quiet:  # said in a checked cell: a run that drops out on another machine shows up in nbval
            used = [t for T in sel["temperatures"] for t in sel["tags"][T]]
            print(f"runs used ({len(used)}): {', '.join(used)}")
            for tag, why in sel["dropped"].items():
                print(f"left out {tag}: {why}")
            if not sel["dropped"]:
                print("left out: none")
        temps, tags, dropped = sel["temperatures"], sel["tags"], sel["dropped"]
    else:
        temps, tags, dropped = sorted(float(t) for t in (temperatures or [])), {}, {}
    colors = temperature_colors(list(P.temperatures) + list(temps) + [float(t) for t in extra_temperatures])
    return Context(layout=lay, temperatures=list(temps), tags=dict(tags), dropped=dict(dropped), colors=colors,
                   savefig=partial(plotting.savefig, folder=lay.figures))
