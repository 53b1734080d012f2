"""The ``collect`` command: a preset's executed notebooks, cleaned, into the committed ``book/<preset>``.

Outputs are kept, progress-bar streams collapsed to what a terminal shows at the end, papermill's
per-cell metadata dropped, large PNGs shrunk; the folder is replaced as a whole (see
:mod:`softlib.pipeline.book`).
"""
from __future__ import annotations

import base64
import copy
import io
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ._common import PNG_LIMIT, BookError

#: ``collect`` warns when a preset's folder grows beyond this (bytes)
FOLDER_LIMIT = 15_000_000
#: notebook-level papermill metadata worth keeping (the rest are local paths and the environment)
PAPERMILL_KEEP = ("parameters", "start_time", "end_time", "duration", "version")


@dataclass
class NotebookReport:
    """What ``collect`` did to one notebook.

    Attributes
    ----------
    name : str
        Path of the notebook inside the preset's book folder.
    bytes_in, bytes_out : int
        Size of the executed notebook and of the cleaned copy.
    outputs_merged : int
        Stream outputs removed: merged into the one before, or left empty by :data:`NOISE`.
    images : list of tuple of int
        ``(bytes before, bytes after)`` of every PNG that was shrunk.
    """

    name: str
    bytes_in: int
    bytes_out: int = 0
    outputs_merged: int = 0
    images: list = field(default_factory=list)


#: stream lines that say nothing about the computation: the warning tqdm prints when a notebook runs
#: without ipywidgets (every notebook executed by papermill), with the source line it quotes
NOISE = [re.compile(r"^.*TqdmWarning: IProgress not found\..*\n(?:[ \t]+from \.autonotebook import .*\n)?", re.MULTILINE)]


def terminal_text(text):
    """What a terminal shows once ``text`` is printed: a carriage return restarts its line.

    Parameters
    ----------
    text : str
        Stream output, e.g. the frames of a tqdm progress bar (``"\\r 10%|#...\\r 20%|##..."``).

    Returns
    -------
    str
        Each line reduced to its last non-empty frame.
    """
    lines = []
    for line in text.split("\n"):
        frames = [f for f in line.split("\r") if f]
        lines.append(frames[-1] if frames else "")
    return "\n".join(lines)


def merge_streams(outputs):
    """Merge consecutive stream outputs of the same name and collapse their carriage returns.

    Parameters
    ----------
    outputs : list of dict
        A code cell's outputs (nbformat v4).

    Returns
    -------
    list of dict
        The outputs, with at most one stream output per run of stdout (or stderr) outputs, the
        lines of :data:`NOISE` removed and streams left empty dropped.
    """
    merged = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                and last.get("name") == out.get("name")):
            last["text"] = last["text"] + out["text"]
        else:
            merged.append(copy.deepcopy(out))
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = drop_noise(terminal_text(out["text"]))
    return [out for out in merged if out.get("output_type") != "stream" or out["text"].strip()]


def drop_noise(text):
    """``text`` without the lines matched by :data:`NOISE`."""
    for pattern in NOISE:
        text = pattern.sub("", text)
    return text


def shrink_png(data, limit=PNG_LIMIT):
    """Re-encode a PNG larger than ``limit`` bytes: optimised, then scaled down, then 256 colours.

    Parameters
    ----------
    data : bytes
        The PNG.
    limit : int
        Size in bytes above which the image is re-encoded.

    Returns
    -------
    bytes
        ``data`` itself when it is small enough, else the smallest attempt that fits (or the last).
    """
    if len(data) <= limit:
        return data
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    best = data
    for scale in (1.0, 0.75, 0.5):
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        attempt = image if scale == 1.0 else image.resize(size, Image.LANCZOS)
        for candidate in (attempt, attempt.convert("RGB").quantize(256)):
            buf = io.BytesIO()
            candidate.save(buf, format="PNG", optimize=True)
            if len(buf.getvalue()) < len(best):
                best = buf.getvalue()
            if len(best) <= limit:
                return best
    return best


def _shrink_images(outputs, limit, report):
    """Shrink the PNGs of ``outputs`` in place; record every change in ``report.images``."""
    for out in outputs:
        png = out.get("data", {}).get("image/png")
        if not png:
            continue
        raw = base64.b64decode(png if isinstance(png, str) else "".join(png))
        small = shrink_png(raw, limit)
        if small is not raw:
            out["data"]["image/png"] = base64.b64encode(small).decode("ascii")
            out.get("metadata", {}).get("image/png", {}).pop("width", None)
            report.images.append((len(raw), len(small)))


def clean_notebook(nb, name, size, png_limit=PNG_LIMIT):
    """A copy of an executed notebook fit for the book.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (papermill output).
    name : str
        Its name in the book folder, for the report.
    size : int
        Its size on disk in bytes, for the report.
    png_limit : int
        PNG outputs above this many bytes are shrunk (:func:`shrink_png`).

    Returns
    -------
    nb : nbformat.NotebookNode
        The cleaned copy: outputs kept, streams merged, per-cell papermill metadata dropped,
        notebook-level papermill metadata reduced to :data:`PAPERMILL_KEEP`.
    report : NotebookReport
    """
    nb = copy.deepcopy(nb)
    report = NotebookReport(name, size)
    pm = nb.metadata.get("papermill")
    if pm is not None:
        nb.metadata["papermill"] = {k: pm[k] for k in PAPERMILL_KEEP if k in pm}
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        if cell.cell_type != "code":
            continue
        before = len(cell.outputs)
        cell.outputs = merge_streams(cell.outputs)
        report.outputs_merged += before - len(cell.outputs)
        _shrink_images(cell.outputs, png_limit, report)
    return nb, report


def notebook_files(nb_dir, pattern="0*.ipynb"):
    """The executed notebooks of a folder, in book order (by name: 01_simulate_* ... 07).

    Parameters
    ----------
    nb_dir : path-like
        A preset's ``nb`` folder (``build/<preset>/nb``).
    pattern : str
        Glob of the notebooks to take.

    Returns
    -------
    list of pathlib.Path
    """
    return sorted(p for p in Path(nb_dir).glob(pattern) if p.is_file())


def _default_seed_dir(preset, nb_dir):
    """The finite-size notebooks that go with a preset: ``<root>/seed/nb`` for ``paper``, else None."""
    if preset != "paper":
        return None
    seed = Path(nb_dir).resolve().parent.parent / "seed" / "nb"
    return seed if notebook_files(seed, "0*_T*.ipynb") else None


def replace_folder(out, files):
    """Write ``files`` into a new folder and put it in place of ``out`` in one rename.

    Parameters
    ----------
    out : path-like
        The folder to (re)create; its previous content disappears only after every file was written.
    files : dict of str to bytes
        Relative path -> content.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    try:
        os.chmod(tmp, 0o755)
        for rel, data in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _clean_files(paths, prefix, png_limit):
    """Read and clean ``paths``; return ``{prefix + name: bytes}`` and the reports."""
    import nbformat

    files, reports = {}, []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        clean, report = clean_notebook(nb, prefix + path.name, path.stat().st_size, png_limit)
        data = (nbformat.writes(clean) + "\n").encode("utf-8")
        report.bytes_out = len(data)
        files[prefix + path.name] = data
        reports.append(report)
    return files, reports


def collect(preset, nb_dir, out, seed_nb_dir=None, png_limit=PNG_LIMIT):
    """Copy a preset's executed notebooks into the book folder ``out`` (see :mod:`softlib.pipeline.book`).

    Parameters
    ----------
    preset : str
        The preset's name (``paper``, ``quick``, ...), recorded in ``collected.json``.
    nb_dir : path-like
        Its executed notebooks (``build/<preset>/nb``).
    out : path-like
        The committed folder, ``book/<preset>``; replaced as a whole.
    seed_nb_dir : path-like, optional
        Finite-size notebooks (``*_T*.ipynb``) copied to ``out/seed``; for ``paper`` the default is
        ``<nb_dir>/../../seed/nb`` when it holds any.
    png_limit : int
        PNGs above this many bytes are shrunk.

    Returns
    -------
    list of NotebookReport

    Raises
    ------
    BookError
        When ``nb_dir`` holds no executed notebook.
    """
    paths = notebook_files(nb_dir)
    if not paths:
        raise BookError(f"no executed notebooks (0*.ipynb) in {nb_dir}: run `make {preset}` first "
                        f"(or `make PRESET={preset} analysis`), or pass --nb-dir where they are")
    files, reports = _clean_files(paths, "", png_limit)
    seed = Path(seed_nb_dir) if seed_nb_dir else _default_seed_dir(preset, nb_dir)
    if seed is not None:
        seed_paths = notebook_files(seed, "0*.ipynb")
        if not seed_paths:
            raise BookError(f"--seed-nb-dir {seed}: no executed notebooks there")
        more, more_reports = _clean_files(seed_paths, "seed/", png_limit)
        files.update(more)
        reports += more_reports
    manifest = {"preset": preset, "notebooks": {r.name: r.bytes_out for r in reports}}
    files["collected.json"] = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    replace_folder(out, files)
    return reports


def format_report(reports, out):
    """A table of what ``collect`` did, with the folder's total and a warning when it is large."""
    lines = [f"{'notebook':<42} {'executed':>10} {'in book':>10}  notes"]
    for r in reports:
        notes = []
        if r.outputs_merged:
            notes.append(f"{r.outputs_merged} stream outputs merged or dropped")
        if r.images:
            notes.append("PNG " + ", ".join(f"{a // 1000}->{b // 1000} kB" for a, b in r.images))
        lines.append(f"{r.name:<42} {r.bytes_in / 1e3:>8.0f}kB {r.bytes_out / 1e3:>8.0f}kB  {'; '.join(notes)}")
    total = sum(r.bytes_out for r in reports)
    lines.append(f"{len(reports)} notebooks, {total / 1e6:.1f} MB in {out}")
    if total > FOLDER_LIMIT:
        lines.append(f"warning: {out} is over {FOLDER_LIMIT / 1e6:.0f} MB; lower --png-limit to shrink the figures")
    return "\n".join(lines)
