"""softlib.pipeline.book without Sphinx or a browser: collect, landing page, table of contents, checks.

These run with the unit tests (no ``book`` marker): they need only nbformat, Pillow and PyYAML.
"""
from __future__ import annotations

import base64
import io
import json

import nbformat
import numpy as np
import pytest
from PIL import Image

from softlib.pipeline import book


def _png(size, noisy, seed=0):
    """A PNG of ``size`` pixels: random noise (large file) or flat colour (tiny file)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) if noisy else np.full(
        (size[1], size[0], 3), 200, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _executed(tmp_path, name="02_calibrate.ipynb", png=None):
    """A small notebook as papermill leaves it: progress bars, metadata, optionally a PNG."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"preset": "quick"}, "environment_variables": {"SECRET": "x"},
                                "input_path": "/a", "output_path": "/b", "duration": 1.0}
    nb.cells.append(nbformat.v4.new_markdown_cell("# 02 — Title\n\n$$a = b \\qquad (7)$$"))
    code = nbformat.v4.new_code_cell("run()")
    code.metadata["papermill"] = {"status": "completed"}
    code.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="\rrun:   0%|          | 0/10"),
        nbformat.v4.new_output("stream", name="stderr", text="\rrun: 100%|##########| 10/10\n"),
        nbformat.v4.new_output("stream", name="stderr", text=(
            "/x/tqdm/auto.py:21: TqdmWarning: IProgress not found. Please update jupyter and ipywidgets.\n"
            "  from .autonotebook import tqdm as notebook_tqdm\n")),
        nbformat.v4.new_output("stream", name="stdout", text="done\n"),
    ]
    if png is not None:
        code.outputs.append(nbformat.v4.new_output("display_data", data={
            "image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<Figure>"}))
    nb.cells.append(code)
    tmp_path.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, tmp_path / name)
    return tmp_path / name


def test_terminal_text_keeps_the_last_frame_of_each_line():
    assert book.terminal_text("\r 10%\r 50%\r100%\nnext\r") == "100%\nnext"
    assert book.terminal_text("plain\ntext\n") == "plain\ntext\n"


def test_merge_streams_merges_runs_collapses_bars_and_drops_noise():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="\ra 1"),
        nbformat.v4.new_output("stream", name="stderr", text="\ra 2\n"),
        nbformat.v4.new_output("stream", name="stdout", text="out\n"),
        nbformat.v4.new_output("stream", name="stderr", text="tail\n"),
        nbformat.v4.new_output("stream", name="stderr", text=(
            "f.py:1: TqdmWarning: IProgress not found. Please update.\n  from .autonotebook import tqdm\n")),
    ]
    merged = book.merge_streams(cell.outputs)
    assert [(o["name"], o["text"]) for o in merged] == [("stderr", "a 2\n"), ("stdout", "out\n"),
                                                        ("stderr", "tail\n")]
    assert len(cell.outputs) == 5, "the input is not modified"


def test_shrink_png_leaves_small_images_alone_and_shrinks_large_ones():
    small = _png((50, 40), noisy=False)
    assert book.shrink_png(small, limit=10_000) is small
    large = _png((400, 300), noisy=True)
    shrunk = book.shrink_png(large, limit=len(large) // 3)
    assert len(shrunk) <= len(large) // 3
    image = Image.open(io.BytesIO(shrunk))
    assert image.width <= 400 and image.width >= 200


def test_clean_notebook_drops_papermill_noise_and_keeps_outputs(tmp_path):
    path = _executed(tmp_path, png=_png((300, 200), noisy=True))
    nb = nbformat.read(path, 4)
    clean, report = book.clean_notebook(nb, path.name, path.stat().st_size, png_limit=50_000)
    assert set(clean.metadata["papermill"]) == {"parameters", "duration"}
    code = clean.cells[1]
    assert "papermill" not in code.metadata
    assert [o["output_type"] for o in code.outputs] == ["stream", "stream", "display_data"]
    assert code.outputs[0]["text"] == "run: 100%|##########| 10/10\n"
    assert report.outputs_merged == 2 and len(report.images) == 1
    assert report.images[0][1] <= 50_000 < report.images[0][0]
    assert "SECRET" not in json.dumps(clean)


def test_collect_replaces_the_folder_and_adds_the_seed_run(tmp_path):
    root = tmp_path / "build"
    _executed(root / "paper" / "nb", "01_simulate_T0.470_s0.ipynb")
    _executed(root / "paper" / "nb", "02_calibrate.ipynb")
    _executed(root / "seed" / "nb", "05_rearrangements_T0.600.ipynb")
    out = tmp_path / "book" / "paper"
    out.mkdir(parents=True)
    (out / "stale.ipynb").write_text("{}")
    reports = book.collect("paper", root / "paper" / "nb", out)
    assert [r.name for r in reports] == ["01_simulate_T0.470_s0.ipynb", "02_calibrate.ipynb",
                                         "seed/05_rearrangements_T0.600.ipynb"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "01_simulate_T0.470_s0.ipynb", "02_calibrate.ipynb", "collected.json", "seed/05_rearrangements_T0.600.ipynb"]
    assert not list(out.parent.glob(".paper.*")), "no temporary folder is left behind"
    assert "3 notebooks" in book.format_report(reports, out)


def test_collect_without_notebooks_names_the_make_command(tmp_path):
    with pytest.raises(book.BookError, match=r"make quick"):
        book.collect("quick", tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_paper_equations_get_one_target_each():
    taken = set()
    text = "Text\n$$x \\qquad (7)$$\nmore $$y (7)$$ and\n\n$$z$$\n"
    out = book.label_paper_equations(text, taken)
    assert out.count("(paper-eq-7)=") == 1 and taken == {"7"}
    assert "\n\n(paper-eq-7)=\n$$x" in out
    assert book.label_paper_equations("$$w \\qquad (7)$$", taken) == "$$w \\qquad (7)$$"


def test_render_template_refuses_unknown_fields():
    assert book.render_template("a {{x}} b {{ y }}", {"x": "1", "y": "2"}) == "a 1 b 2"
    with pytest.raises(book.BookError, match=r"\{\{z\}\}.*known fields: x"):
        book.render_template("{{z}}", {"x": "1"})


def test_landing_page_numbers_come_from_the_results():
    """The committed quick results fill every field of the template; the numbers are those of the JSON."""
    results = json.loads((book.ROOT / "data" / "quick" / "results.json").read_text())
    page = book.landing("quick", book.ROOT / "data", toc="TOC-HERE")
    assert "{{" not in page and "TOC-HERE" in page
    assert f"{100 * results['fraction_above_peak']['value']:.0f} %" in page
    assert "| claim | paper | ours | note |" in page, "the comparison table is included"


def test_missing_results_name_the_make_command(tmp_path):
    with pytest.raises(book.BookError, match=r"results.json is missing.*make quick"):
        book.headline("quick", tmp_path)


def test_toctrees_group_the_simulations(tmp_path):
    nbdir = tmp_path / "notebooks"
    for name in ("01_simulate_T0.600_s0.ipynb", "01_simulate_T0.700_s0.ipynb", "02_calibrate.ipynb"):
        _executed(nbdir, name)
    (tmp_path / "methods.md").write_text("# Methods\n")
    toc = book.toctrees(tmp_path)
    assert "notebooks/01_simulate\nnotebooks/02_calibrate" in toc
    assert ":caption: Reference" in toc and "\nmethods\n" in toc and "course" not in toc
    chapter = (nbdir / "01_simulate.md").read_text()
    assert "T = 0.600, sample 0 <01_simulate_T0.600_s0>" in chapter
    assert "Finite-size" not in toc, "a part with no pages is left out"


def test_remote_references_finds_scripts_and_fonts_but_not_links(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="https://doi.org/x">paper</a><link rel="preconnect" href="https://x.org">'
        '<script src="_static/a.js"></script>')
    assert book.remote_references(tmp_path) == []
    (tmp_path / "page.html").write_text('<script defer src="https://cdn.example/mathjax.js"></script>')
    (tmp_path / "_static" / "a.css").write_text("@font-face { src: url('https://fonts.example/f.woff2'); }")
    found = book.remote_references(tmp_path)
    assert len(found) == 2 and found[0].startswith("page.html") and found[1].startswith("_static/a.css")


def test_landing_page_propensity_table_and_field_figure(tmp_path):
    from softlib.pipeline import book

    prop = {"at_tau_alpha": {"S": {"0.650": 0.18, "0.560": 0.21}, "S_ML": {"0.650": 0.31}},
            "ceiling": {"0.650": 0.89, "0.560": 0.9}, "n_a_particles": {"0.650": 15200, "0.560": 15200}}
    text = book._propensity(prop)
    assert "| 0.56 | 15200 | +0.21 | n/a | n/a | 0.90 |" in text
    assert "| 0.65 | 15200 | +0.18 | n/a | +0.31 | 0.89 |" in text
    assert "make propensity" in book._propensity(None)
    figs, src = tmp_path / "figures" / "paper", tmp_path / "src"
    src.mkdir()
    assert "not in" in book.landing_figure("paper", tmp_path / "figures", src)
    figs.mkdir(parents=True)
    (figs / "fig_softness_field.png").write_bytes(b"png")
    md = book.landing_figure("paper", tmp_path / "figures", src)
    assert md.startswith("```{figure} landing_fig_softness_field.png")
    assert (src / "landing_fig_softness_field.png").read_bytes() == b"png"
