"""The compendium's pipeline: presets, folder layout, run selection, per-run stages, report, plotting."""
