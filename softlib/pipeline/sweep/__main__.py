"""``python -m softlib.pipeline.sweep run|plan|collate SWEEP.toml ...`` (see :func:`.run.main`)."""
from .run import main

raise SystemExit(main())
