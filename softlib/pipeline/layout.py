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
               "lifetime": "lifetime.json", "rearrangements": "rearrangements.json", "results": "results.json",
               "predictors": "predictors.json", "propensity": "propensity.json"}


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

    def ensemble(self, T):
        """Folder of the iso-configurational ensemble of one temperature (``make propensity``)."""
        return self.build / "propensity" / f"T{float(T):.3f}"

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
    dataset: object = None          # the Dataset (softlib.pipeline.dataset) or None for a preset
    sources: dict = field(default_factory=dict)   # {tag: RunSource}; a preset's are made on demand
    system: dict | None = None      # {'x', 'rho', 'model', 'notes'} where set-up checked them (data sets)
    summaries: dict = field(default_factory=dict)  # a data set's equilibration summaries {tag: dict}

    @property
    def T_low(self):
        return self.temperatures[0]

    @property
    def preset(self):
        """The output name: the preset's, or the data set's ``name``."""
        return self.layout.preset

    @property
    def kind(self):
        return "data set" if self.dataset is not None else "preset"

    def source(self, tag):
        """The :class:`softlib.pipeline.sources.RunSource` of one run (its trajectory files and facts)."""
        if tag not in self.sources:
            from .sources import RunSource

            self.sources[tag] = RunSource.from_run_dir(self.layout.run(tag), tag)
        return self.sources[tag]

    def samples(self, T):
        """Run tags of temperature T."""
        return self.tags[T]

    @property
    def all_tags(self):
        return [t for T in self.temperatures for t in self.tags[T]]


def setup(preset, build_dir="build", data_dir="data", fig_dir="figures", temperatures=None,
          require_equilibrated=True, select=True, extra_temperatures=(), root=None, quiet=False, dataset="",
          min_temperatures=1):
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
    dataset : str or Path
        A data set file (``softlib.pipeline.dataset``): when given, ``preset`` is ignored, the outputs go
        to ``<build|data|figures>/<name>`` and the runs are the data set's files (:func:`setup_dataset`).
    min_temperatures : int
        Fewer usable temperatures than this is an error at once (notebook 02 needs 2 to calibrate).

    Returns
    -------
    Context with ``layout``, ``temperatures``, ``tags`` ({T: [run tags]}), ``dropped`` ({tag: reason}),
    ``colors`` ({T: colour}, the same for every notebook of the preset) and ``savefig(fig, name)``.
    """
    from . import plotting
    from .presets import get_preset
    from .runs import select_runs

    plotting.use_style()
    if dataset:
        return setup_dataset(dataset, build_dir, data_dir, fig_dir, temperatures, require_equilibrated, select,
                             extra_temperatures, root, quiet, min_temperatures)
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
    if select:
        _enough(temps, min_temperatures, f"preset {preset!r}")
    colors = temperature_colors(list(P.temperatures) + list(temps) + [float(t) for t in extra_temperatures])
    return Context(layout=lay, temperatures=list(temps), tags=dict(tags), dropped=dict(dropped), colors=colors,
                   savefig=partial(plotting.savefig, folder=lay.figures))


def _enough(temps, n, what):
    if len(temps) < n:
        raise ValueError(f"{what}: {len(temps)} usable temperature(s) {list(temps)}, this notebook needs at least "
                         f"{n} (the calibration of Eq. 7 is a line over temperatures: 2 give it exactly, "
                         "3 or more with error bars)")


def _pick(available, temperatures, where):
    if not temperatures:
        return sorted(available)
    wanted = sorted(float(t) for t in temperatures)
    unknown = [t for t in wanted if not any(abs(t - k) < 1e-9 for k in available)]
    if unknown:
        raise ValueError(f"temperatures {unknown} are not in {where} (it has {sorted(available)})")
    return [k for k in sorted(available) if any(abs(t - k) < 1e-9 for t in wanted)]


def setup_dataset(dataset, build_dir="build", data_dir="data", fig_dir="figures", temperatures=None,
                  require_equilibrated=True, select=True, extra_temperatures=(), root=None, quiet=False,
                  min_temperatures=1):
    """:func:`setup` for a data set file: the user's trajectories instead of a preset's simulations.

    Reads and validates the file (:func:`softlib.pipeline.dataset.load_dataset`), checks the density and
    composition of every run against the model and the equilibration of every run on its dense frames
    (:func:`softlib.pipeline.sources.dataset_summaries`: computed once, by the first notebook that needs
    them, and stored in ``<data>/<name>/simulate/``), and selects the runs: one that fails a check is left
    out when both ``require_equilibrated`` and the data set's ``require_equilibrated`` say so, else kept with
    a printed warning. ``select=False`` (notebook 06) reads nothing but the file.
    """
    from . import plotting
    from .dataset import load_dataset
    from .sources import dataset_sources, dataset_summaries

    ds = load_dataset(dataset)
    lay = Layout(ds.name, build_dir, data_dir, fig_dir, root).makedirs()
    say = (lambda *a: None) if quiet else print
    sources = dataset_sources(ds, lay)
    temps_all = _pick(ds.temperatures, temperatures, f"data set {ds.path}")
    tags, dropped, summaries, system = {}, {}, {}, None
    if select:
        sources = {t: s for t, s in sources.items() if any(abs(s.T - T) < 1e-9 for T in temps_all)}
        say(f"data set {ds.name!r} ({ds.path}): model {ds.model}, temperatures {temps_all}")
        summaries, system = dataset_summaries(sources, lay, log=say)
        required = bool(require_equilibrated) and ds.require_equilibrated
        for T in temps_all:
            for tag in ds.run_at(T).tags:
                s = summaries[tag]
                failed = [k for k, v in s["checks"].items() if v is False]
                if failed and required:
                    dropped[tag] = "not equilibrated: failed " + ", ".join(failed)
                    continue
                if failed:
                    say(f"WARNING: {tag} fails {', '.join(failed)}; require_equilibrated = false: analysed anyway")
                tags.setdefault(T, []).append(tag)
        temps = [T for T in temps_all if T in tags]
        f0 = next(iter(summaries.values()))["system"]
        swapped = [t for t, src in sources.items() if getattr(src, "swapped", False)]
        if swapped:
            say(f"types swapped in {', '.join(swapped)}: without a species table the larger species is A")
        say("species: " + ("the species table of the data set file" if any(r.species for r in ds.runs) else
                           "no species table, so the larger species is A (the default)")
            + f": A = {f0['N_A']}, B = {f0['N_B']} particles of N = {f0['N']}")
        say(f"density N/V = {f0['rho']:.5g}, x_A = {f0['x'][0]:.4g}; the analysis uses rho = {system['rho']:.5g}, "
            f"x = ({system['x'][0]:.4g}, {system['x'][1]:.4g})"
            + (" (the Kob-Andersen values)" if system["model"] else ""))
        for n in system["notes"]:
            say("NOTE: " + n)
        say("equilibration (dense frames; " + "energy drift not available without energies):")
        for tag, s in summaries.items():
            tau, n_tau = s.get("tau_alpha"), s.get("n_tau_production")
            verdict = "yes" if s["equilibrated"] else "NO"
            say(f"  {tag}: tau_alpha = {'n/a' if tau is None else f'{tau:.3g}'}, duration = "
                f"{'n/a' if n_tau is None else f'{n_tau:.0f}'} tau_alpha, halves agree: "
                f"tau {_yn(s['checks']['halves_agree_tau'])}, MSD {_yn(s['checks']['halves_agree_msd'])}; "
                f"equilibrated: {verdict}")
        used = [t for T in temps for t in tags[T]]
        say(f"runs used ({len(used)}): {', '.join(used)}")
        for tag, why in dropped.items():
            say(f"left out {tag}: {why}")
        if not dropped:
            say("left out: none")
        if not temps:
            raise ValueError(f"no usable run in {ds.path}: {dropped}; give longer trajectories or set "
                             "require_equilibrated = false in the data set file")
    else:
        temps = temps_all
    _enough(temps, min_temperatures, f"data set {ds.path}")
    colors = temperature_colors(list(ds.temperatures) + [float(t) for t in extra_temperatures])
    return Context(layout=lay, temperatures=list(temps), tags=tags, dropped=dropped, colors=colors,
                   savefig=partial(plotting.savefig, folder=lay.figures), dataset=ds, sources=sources,
                   system=system, summaries=summaries)


def _yn(v):
    return "n/a" if v is None else ("yes" if v else "NO")
