"""What the steps of the book share: its paths, the PNG limit, :class:`BookError`, :func:`write_if_changed`."""
from __future__ import annotations

from pathlib import Path

#: the repository (the folder above ``softlib/``)
ROOT = Path(__file__).resolve().parents[3]
#: committed inputs of the book: conf.py, landing.md, toc.yml, course/, _static/
BOOK = ROOT / "book"
#: a PNG output larger than this is shrunk by ``collect`` (bytes)
PNG_LIMIT = 300_000


class BookError(RuntimeError):
    """A book step cannot run: the message names what is missing and the command that makes it."""


def write_if_changed(path, data):
    """Write ``data`` (str or bytes) to ``path`` unless it holds exactly that (Sphinx rebuilds less).

    Returns
    -------
    bool
        Whether the file was written.
    """
    path = Path(path)
    data = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True
