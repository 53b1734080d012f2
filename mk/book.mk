# ---------------------------------------------------------------------------- book
# The executed paper as a static HTML site (softlib/pipeline/book/; included by the Makefile).
#
#   make book                 build/book/index.html from the committed notebooks of book/paper
#   make book BOOK_PRESET=quick   the same for book/quick
#   make book-notebooks       copy a preset's executed notebooks (build/<preset>/nb, after make paper
#                             or make quick) into book/<preset>, the folder that is committed
#   make book-serve           serve build/book on http://127.0.0.1:8000 (the site also works from disk)
#   make book-setup           install the book's tools (.[book]: Sphinx, myst-nb, ...) into .venv
#
# The build needs no network: the notebooks are not executed again and MathJax is served from the
# site. Variables: BOOK_PRESET (paper), BOOK_NB (book/$(BOOK_PRESET)), BOOK_DATA (data: the
# numbers of the landing page), BOOK_SRC ($(BUILD_ROOT)/book-src), BOOK_OUT ($(BUILD_ROOT)/book),
# BOOK_NB_DIR (the executed notebooks book-notebooks copies: $(BUILD_ROOT)/$(BOOK_PRESET)/nb).

BOOK_PRESET ?= paper
BOOK_NB ?= book/$(BOOK_PRESET)
BOOK_DATA ?= data
BOOK_SRC ?= $(BUILD_ROOT)/book-src
BOOK_OUT ?= $(BUILD_ROOT)/book
BOOK_NB_DIR ?= $(BUILD_ROOT)/$(BOOK_PRESET)/nb
BOOK_PORT ?= 8000
BOOK_STAMP := $(VENV)/.softlib-book-installed
BOOK_CMD = $(PY) -m softlib.pipeline.book

.PHONY: book book-setup book-notebooks book-serve

book-setup: $(BOOK_STAMP)

$(BOOK_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install -q -e '.[book]'
	@touch $@

book: $(BOOK_STAMP)
	$(BOOK_CMD) build --preset $(BOOK_PRESET) --notebooks $(BOOK_NB) --data-dir $(BOOK_DATA) \
	  --src $(BOOK_SRC) --out $(BOOK_OUT)

book-notebooks: $(STAMP)
	$(BOOK_CMD) collect --preset $(BOOK_PRESET) --nb-dir $(BOOK_NB_DIR) --out book/$(BOOK_PRESET)

book-serve:
	@test -f $(BOOK_OUT)/index.html || { echo "$(BOOK_OUT)/index.html is missing: run make book first"; exit 1; }
	$(PY) -m http.server --bind 127.0.0.1 --directory $(BOOK_OUT) $(BOOK_PORT)
