# outreach: `make demo` runs the main job on the shipped content; `make test` runs the tests.
# Both install what they need first (a virtual environment in .venv, fonts from Debian).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# PyTorch comes in through argostranslate -> stanza. Install this CPU build first,
# or pip resolves the newest torch with several GB of CUDA packages.
TORCH  := torch==2.13.0
FONT_PACKAGES := fonts-noto-core fonts-noto-cjk libharfbuzz-subset0 poppler-utils gettext openssh-client libgs-common
# The review desk's end-to-end test drives a real browser.
BROWSER_PACKAGES := chromium chromium-driver

.PHONY: install fonts demo test soak check lint release bench bench-translate bench-desk constraints update-references clean help

help:
	@echo "make install          venv, Python packages (pinned by constraints.txt), fonts and browser (Debian)"
	@echo "make demo             install, check the content, render every edition, bundle the finals"
	@echo "make test             install, run the test suite"
	@echo "make soak             two writers racing on one project: 5,000 random sequences (a few minutes)"
	@echo "make check            validate source, registry, translations and ledgers"
	@echo "make lint             ruff, and mypy (strict) on pipeline/"
	@echo "make release          check, build, bundle; fails if an edition required for release is not final"
	@echo "make bench            measure the build (full, no-change, one changed string, 10x editions)"
	@echo "make bench-translate  measure the translate stage against bare CTranslate2"
	@echo "make bench-desk       measure the review desk's live print preview"
	@echo "make update-references  regenerate the reference images of the visual tests"
	@echo "make constraints      after an upgrade that passed the tests: pin what they passed with"
	@echo "make clean            remove output/ (generated files)"

install: fonts $(STAMP)
	@# Byte-compile the package as an installed one is (pip does that for site-packages; with
	@# PYTHONDONTWRITEBYTECODE set, as on some CI machines, nothing else would, and every command
	@# would compile ~40 modules again, 50 ms). Only stale files are compiled.
	$(BIN)/python -m compileall -q pipeline

# constraints.txt pins every package to the version the tests last passed with.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt $(TORCH)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[translate,test]'
	touch $(STAMP)

# Fonts for every script the project prints; installed only when missing (needs root or sudo).
fonts:
	@missing=""; for p in $(FONT_PACKAGES) $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

check: install
	$(BIN)/outreach check

demo: install
	$(BIN)/outreach check
	$(BIN)/outreach status
	$(BIN)/outreach build

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check pipeline tests
	$(BIN)/mypy

# What a release job runs: stop at the first problem; the bundle refuses stale or hand-edited finals.
release: install
	$(BIN)/outreach check
	$(BIN)/outreach build
	$(BIN)/outreach bundle --release

bench: install
	$(BIN)/python tests/tools/bench_build.py

# After upgrading packages and seeing the tests pass: pin what they passed with.
constraints: install
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '@ file' | sed 's/^torch==\([^+]*\)+.*/torch==\1/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

soak: install
	OUTREACH_SOAK_EXAMPLES=5000 OUTREACH_SOAK_STEPS=4 $(BIN)/python -m pytest -q tests/test_race_stateful.py

bench-translate: install
	$(BIN)/python tests/tools/bench_translate.py

bench-desk: install
	$(BIN)/python tests/tools/bench_desk.py

update-references: install
	$(BIN)/python tests/tools/update_references.py

clean:
	find output -mindepth 1 ! -name README.md -exec rm -rf {} +
