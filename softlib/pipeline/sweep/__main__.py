"""``python -m softlib.pipeline.sweep run|plan|collate SWEEP.toml ...`` (see :func:`.run.main`)."""
from .run import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
