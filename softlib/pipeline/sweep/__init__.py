"""Parameter sweeps: a grid over notebook parameters, each point rerun from the first stage it changes.

``make sweep SWEEP=sweeps/window.toml`` (mk/sweep.mk) calls ``python -m softlib.pipeline.sweep run``; it
works on the build of a preset (``PRESET=quick|paper``) or of a data set (``DATASET=my.toml``), which must
have been analysed first (``make quick``, ``make paper``, ``make analysis DATASET=...``).

The sweep file (TOML; unknown keys are refused)::

    name = "window"                 # optional (default: the file name); names the folders and the table
    description = "p_hop window"    # optional
    [grid]                          # one or more parameters, each with a list of values: every combination
    window = [15, 30, 45, 75]       # is one point
    [fixed]                         # optional: parameters set at every point (e.g. calibration = "smeared")

A parameter must be declared by at least one of the analysis notebooks 02-06 (those whose numbers reach
``results.json``; 07 and 08 are not run) and is passed to every notebook of the point that declares it.

**Stages.** A parameter enters at the first of 02-06 that declares it (``delta`` enters at 03 with the
paper's calibration, for which 02 uses it only in the smeared variant's c0, c1, and at 02 with
``calibration = "smeared"``). A point reruns the entry stages of the parameters whose values differ from
the main build's and every stage downstream of them (02 -> 03 -> 04, 05 -> 06; the Makefile's rules),
where the main build's value of a parameter is the one its executed notebook was given
(``<build>/<name>/nb``), else the notebook's default.

**Folders.** Point ``window-30`` of sweep ``window`` on the quick preset::

    build/quick/sweeps/window/window-30/point.json    the point: values, changed values, stages
    build/quick/sweeps/window/window-30/build/quick/  its build folder: nb/ (the executed notebooks), tmp/,
        runs -> build/quick/runs                      symlinks to the main build's outputs of the stages
        softness -> build/quick/softness              the point does not rerun (read only), own folders
        structure -> build/quick/structure            and files for those it reruns
    build/quick/sweeps/window/window-30/data/quick/   its data folder: simulate/ and the json of the stages
                                                      not rerun copied from data/quick, the others written
    build/quick/sweeps/window/window-30/figures/quick/
    data/quick/sweeps/window.csv, window.json         the collated table and its provenance
    figures/quick/sweeps/window.png, window.pdf       headline numbers against the swept parameter

So the committed ``data/<name>/*.json`` and the main softness store are never written. A point whose values
are all the main build's reuses its results (``data/<name>/*.json`` copied, nothing run). A point whose
``results.json`` exists is not run again (the notebook runner publishes atomically); within an interrupted
point, a stage whose executed notebook exists and is newer than those of its rerun upstream stages is kept.
The main build's results.json must come from the build swept (its softness bins are those of the build's
rearrangements_tables.npz), else nothing runs. A point that fails (e.g. a window too long for the runs) is
reported with the notebook's error, in the log and in ``<sweep>.json``; the others go on and are collated.

What a point leaves out: notebook 07 (its numbers are not in results.json, so a point's COMPARISON.md has no
row for it) and the finite-size comparison of the paper preset (``finite_size_preset`` is not passed).

Commands: ``python -m softlib.pipeline.sweep run|plan|collate SWEEP.toml [--preset P] [--dataset D]
[--build-root B] [--data-root D] [--fig-root F] [--log-output]``; ``plan`` says what each point would rerun
and which of the main build's outputs are missing, without writing anything; ``collate`` rewrites the table
and figure from the points done.

Modules: :mod:`.spec` (the sweep file, the parameters the notebooks declare, the stage graph),
:mod:`.points` (a point's folders and run), :mod:`.table` (the tidy table of headline numbers),
:mod:`.conclusions` (do the paper's conclusions hold at every point), :mod:`.figure` and :mod:`.run`
(the whole sweep and the command line).
"""
from __future__ import annotations

from .conclusions import (barrier_conclusion, conclusions, fraction_conclusion, headline_table,  # noqa: F401
                          onset_conclusion)
from .figure import plot_sweep  # noqa: F401
from .points import (Point, Target, check_main, inputs, main_parameters, main_values, missing_inputs,  # noqa: F401
                     plan, prepare, recorded_build, reuse_main, run_point, stage_arguments)
from .run import main, notebook_error, publish, run_sweep  # noqa: F401
from .spec import (CHOICES, DATA_PRODUCTS, BUILD_PRODUCTS, MAIN, NEEDS, NOT_RUN, RESERVED, STAGES,  # noqa: F401
                   Sweep, SweepError, declared_parameters, downstream, entry_stage, executed_parameters,
                   format_value, load_sweep, notebook_parameters, parse_sweep, point_name, repository_root,
                   stages_to_run, upstream)
from .table import (collate, failed_points, inventory, parameter_columns, read_table, read_tables,  # noqa: F401
                    results_rows, write_table)
