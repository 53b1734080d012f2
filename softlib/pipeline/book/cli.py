"""The command line of the book: ``python -m softlib.pipeline.book {collect,landing,build} ...``."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._common import BOOK, PNG_LIMIT, ROOT, BookError, write_if_changed
from .build import build
from .collect import collect, format_report
from .landing import landing
from .toc import toctrees


def _parser():
    """The command-line parser (see the docstring of :mod:`softlib.pipeline.book`)."""
    description = sys.modules[__package__].__doc__.split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m softlib.pipeline.book", description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="copy a preset's executed notebooks into book/<preset>")
    c.add_argument("--preset", required=True)
    c.add_argument("--nb-dir", required=True, help="the executed notebooks, build/<preset>/nb")
    c.add_argument("--out", help="default book/<preset>")
    c.add_argument("--seed-nb-dir", help="finite-size notebooks (paper: default <root>/seed/nb)")
    c.add_argument("--png-limit", type=int, default=PNG_LIMIT, help="shrink PNGs above this many bytes")
    lp = sub.add_parser("landing", help="write the landing page's Markdown")
    lp.add_argument("--preset", required=True)
    lp.add_argument("--out", required=True)
    lp.add_argument("--data-dir", default=str(ROOT / "data"))
    b = sub.add_parser("build", help="build the site")
    b.add_argument("--preset", required=True)
    b.add_argument("--notebooks", help="default book/<preset>")
    b.add_argument("--src", help="default build/book-src")
    b.add_argument("--out", help="default build/book")
    b.add_argument("--data-dir", help="default data")
    return parser


def main(argv=None):
    """Run one command; a :class:`BookError` is printed as ``error: ...`` with exit status 1."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "collect":
            out = Path(args.out) if args.out else BOOK / args.preset
            print(format_report(collect(args.preset, args.nb_dir, out, args.seed_nb_dir, args.png_limit), out))
        elif args.command == "landing":
            out = Path(args.out)
            write_if_changed(out, landing(args.preset, args.data_dir, src=out.parent, toc=toctrees(out.parent)))
            print(f"wrote {out}")
        else:
            start = time.perf_counter()
            index = build(args.preset, args.notebooks, args.src, args.out, args.data_dir)
            print(f"book of the {args.preset} preset: {index} ({time.perf_counter() - start:.0f} s)")
    except BookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
