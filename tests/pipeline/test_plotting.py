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
