"""The notebooks' shared helpers: rounding for nbval and figure files."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from softlib.pipeline import plotting  # noqa: E402


def test_sig_rounds_to_significant_digits_and_keeps_missing_values_missing():
    assert plotting.sig(1234.5, 2) == 1200.0
    assert plotting.sig(-0.0012345, 3) == -0.00123
    assert math.isnan(plotting.sig(None)) and math.isnan(plotting.sig(float("inf")))
    assert plotting.sig_text(0.012345, 2) == "0.012"
    assert plotting.sig_text(698.7, 2) == "700" and plotting.sig_text(2843.0, 2) == "2800"
    assert plotting.sig_text(2.1e-4, 2) == "0.00021" and plotting.sig_text(-1.234e7, 3) == "-1.23e+07"
    assert plotting.sig_text(0.0) == "0" and plotting.sig_text(5.0, 2) == "5"
    assert plotting.sig_text(None) == "nan" and plotting.sig_text(float("nan")) == "nan"


def test_savefig_writes_png_and_pdf(tmp_path):
    data_out, fig_out = plotting.output_dirs("quick", tmp_path / "data", tmp_path / "figs")
    assert data_out.is_dir() and fig_out.is_dir()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    plotting.savefig(fig, "line", fig_out)
    plt.close(fig)
    assert (fig_out / "line.png").read_bytes()[:4] == b"\x89PNG"
    assert (fig_out / "line.pdf").read_bytes()[:4] == b"%PDF"


def test_text_helpers_for_temperatures_and_fractions():
    assert plotting.tf(0.8012) == "0.80" and plotting.tf(None) == "nan" and plotting.tf(float("inf")) == "inf"
    assert plotting.pm({"value": 0.6412, "error": 0.0312}) == "64 % +- 3 %"
    assert plotting.pm({"value": 2.5, "error": 0.25}, scale=1, unit="") == "2 +- 0.2"


def test_a_kill_during_savefig_leaves_the_previous_figure_intact(tmp_path, monkeypatch):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    plotting.savefig(fig, "line", tmp_path)
    before = {ext: (tmp_path / f"line.{ext}").read_bytes() for ext in ("png", "pdf")}
    real = fig.savefig

    def killed(fname, **kw):  # writes half a file, then the process is interrupted
        real(fname, **kw)
        fname.truncate(fname.tell() // 2)
        raise KeyboardInterrupt

    ax.plot([0, 1], [1, 0])
    monkeypatch.setattr(fig, "savefig", killed)
    try:
        plotting.savefig(fig, "line", tmp_path)
    except KeyboardInterrupt:
        pass
    plt.close(fig)
    assert {ext: (tmp_path / f"line.{ext}").read_bytes() for ext in ("png", "pdf")} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.pdf", "line.png"]  # no stray temp file


# ------------------------------------------------------------------ the figures' labels, legends, colours
def _static_runs(seed=0):
    """One run of 50 A particles that never move, in 5 clusters of softness (10 each), S constant in time."""
    import numpy as np

    rng = np.random.default_rng(seed)
    S = np.repeat(5e-4 + 2e-4 * np.arange(5), 10) + rng.uniform(0, 1e-4, 50)
    F = 8
    run = {"T": 0.6, "S": np.tile(S, (F, 1)), "pos": np.zeros((F, 50, 3)), "times": np.arange(F, dtype=float),
           "block": None, "grid": {"schedule": "linear", "origin_every": 1, "lags": np.array([1, 2, 4])}}
    return {"T0.600_s0": run}, S


def test_fig4c_labels_each_group_by_the_mean_initial_softness_of_its_particles():
    import numpy as np

    from softlib.pipeline import figures, lifetime_stage

    runs, S = _static_runs()
    prop = lifetime_stage.propagators(runs, ["T0.600_s0"], n_s0=5)
    fig = figures.fig4c(prop, 0.6, 3.0, r_stay=0.5, min_count=1)
    ax = fig.axes[0]
    labels = [float(t.get_text()) for t in ax.get_legend().get_texts()]
    # independent: the quintiles of 50 distinct values are the 5 clusters of 10, by rank
    expected = np.sort(S).reshape(5, 10).mean(axis=1)
    np.testing.assert_allclose(labels, expected, rtol=6e-3)  # printed with 3 significant digits
    starts = [line.get_ydata()[0] for line in ax.get_lines() if line.get_label() in
              [t.get_text() for t in ax.get_legend().get_texts()]]
    np.testing.assert_allclose(starts, expected, rtol=1e-12)  # the curves start where their labels say
    plt.close(fig)


def test_legend_outside_leaves_the_frame_free():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    leg = plotting.legend_outside(ax, title="T")
    fig.canvas.draw()
    assert leg.get_window_extent().x0 >= ax.get_window_extent().x1
    plt.close(fig)


def test_fig5b_colours_temperatures_from_the_shared_palette_and_labels_units():
    import numpy as np

    from softlib.pipeline import figures_dynamics, layout

    colors = layout.temperature_colors([0.6, 0.7, 0.8, 1.0])
    res = {T: {"P_R": np.array([0.1, 0.2]), "P_R_err": np.array([0.01, 0.02])} for T in (0.6, 1.0)}
    edges = np.array([1e-3, 1.5e-3, 2e-3])
    fig = figures_dynamics.fig5b(res, edges, colors, 15.0)
    ax = fig.axes[0]
    drawn = [c.get_color() for c in ax.get_lines()]
    assert matplotlib.colors.to_rgba(colors[0.6]) in [matplotlib.colors.to_rgba(c) for c in drawn]
    assert matplotlib.colors.to_rgba(colors[1.0]) in [matplotlib.colors.to_rgba(c) for c in drawn]
    assert "sigma_{AA}^2" in ax.get_xlabel()
    plt.close(fig)
    fig = figures_dynamics.fig5b(res, edges, colors, 15.0, variable=r"$S_{ML}$ (dimensionless)")
    assert fig.axes[0].get_xlabel() == r"$S_{ML}$ (dimensionless)"
    plt.close(fig)
