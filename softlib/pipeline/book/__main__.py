"""``python -m softlib.pipeline.book COMMAND ...``: see :mod:`softlib.pipeline.book.cli`."""
import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
