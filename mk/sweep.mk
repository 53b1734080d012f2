# ---------------------------------------------------------------------------- sweeps
# A grid over notebook parameters (softlib/pipeline/sweep/; included at the end of the Makefile).
#
#   make sweep SWEEP=sweeps/window.toml     every point of the grid on the build of PRESET (or DATASET=my.toml),
#                                           then notebook 09 on every table of <data>/<name>/sweeps
#   make sweep-plan SWEEP=sweeps/delta.toml PRESET=paper BUILD_ROOT=/work/paperbuild
#                                           what each point would rerun, where it goes; runs nothing
#   make sweep-collate SWEEP=...            the table and figure again from the points done
#   make sweep-report                       notebook 09 alone
#
# The main build must be complete (make quick, make paper, make analysis DATASET=...): a point reruns only
# the notebooks downstream of the first one its changed parameters enter, in
# $(BUILD_ROOT)/<name>/sweeps/<sweep>/<point>/, and reads the main build's other outputs (links, copies);
# the committed $(DATA_ROOT)/<name>/*.json are never written. Resumable: rerun the same command after an
# interruption. Outputs: $(DATA_ROOT)/<name>/sweeps/<sweep>.csv (+ .json, provenance) and
# $(FIG_ROOT)/<name>/sweeps/<sweep>.png.

SWEEP ?=
SWEEP_CMD = $(PY) -m softlib.pipeline.sweep
SWEEP_ON = $(SWEEP) --preset $(PRESET) $(if $(strip $(DATASET)),--dataset $(abspath $(DATASET)),) \
  --build-root $(abspath $(BUILD_ROOT)) --data-root $(abspath $(DATA_ROOT)) --fig-root $(abspath $(FIG_ROOT))
SWEEP_NEED = @test -n "$(SWEEP)" || { echo "give a sweep file: make $@ SWEEP=sweeps/window.toml (files in sweeps/)"; exit 1; }

.PHONY: sweep sweep-plan sweep-collate sweep-report

# notebook 09 runs also when some points failed (it lists them); make then exits with the sweep's status
sweep: | $(STAMP)
	$(SWEEP_NEED)
	rc=0; $(SWEEP_CMD) run $(SWEEP_ON) $(NB_LOG) || rc=$$?; \
	$(call run_nb,notebooks/09_sweeps.py,$(NB)/09_sweeps.ipynb,) && exit $$rc

sweep-plan: | $(STAMP)
	$(SWEEP_NEED)
	$(SWEEP_CMD) plan $(SWEEP_ON)

sweep-collate: | $(STAMP)
	$(SWEEP_NEED)
	$(SWEEP_CMD) collate $(SWEEP_ON)

sweep-report: | $(STAMP)
	$(call run_nb,notebooks/09_sweeps.py,$(NB)/09_sweeps.ipynb,)
