# grantd build. Plain make over pkg-config; Debian packages only.
#   make demo   - install missing packages (as root), build, seed demo.db, serve on :8080
#   make check  - install test packages, build, run unit tests, the API suite on SQLite and on
#                 PostgreSQL, the browser suite, unit and API again under ASan+UBSan (SQLite),
#                 and 30 s of each fuzz target (docs/fuzzing.md)
PKGS      := libh2o-evloop sqlite3 libpq jansson libsodium openssl
DEB_BUILD := libh2o-evloop-dev libssl-dev libsqlite3-dev libjansson-dev libsodium-dev \
             libunistring-dev libpq-dev pkg-config gcc make
DEB_TEST  := python3-pytest python3-requests strace clang libclang-rt-14-dev openssl postgresql
CC        ?= cc
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
             -Wformat-security -Wno-unused-parameter
CFLAGS    ?= -O2 -g
ifeq ($(CI),true)
WARN      += -Werror
endif
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -DH2O_USE_LIBUV=0 -Isrc \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS       = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -lpthread -lm
BUILD     ?= build
SRCS      := $(sort $(wildcard src/*.c src/models/*.c))
LIBSRCS   := $(filter-out src/main.c,$(SRCS))
OBJS      := $(LIBSRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITS     := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
PY        := /usr/bin/python3

.PHONY: all deps deps-test demo check unit unit-pg api api-pg asan browser fmt fmt-check seam-check clean bench
all: $(BUILD)/grantd

$(BUILD)/%.o: %.c $(wildcard src/*.h src/models/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libgrantd.a: $(OBJS)
	ar rcs $@ $^

$(BUILD)/grantd: $(BUILD)/src/main.o $(BUILD)/libgrantd.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h tests/unit/unit_db.h $(BUILD)/libgrantd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libgrantd.a $(LIBS)

# Installs what is missing (only when root; otherwise it says what to install).
deps:
	@sh tools/deps.sh $(DEB_BUILD)
deps-test:
	@sh tools/deps.sh $(DEB_BUILD) $(DEB_TEST)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh $(BUILD)/grantd

unit: $(UNITS)
	@sh tools/run-units.sh $(UNITS)

# The PostgreSQL engine's unit tests (the engine, the change log) against a throw-away
# server (tools/pg-test.sh); plain `make unit` runs them too, on SQLite or skipped.
unit-pg: $(BUILD)/tests/test_store_pg $(BUILD)/tests/test_changelog
	@sh tools/pg-test.sh sh tools/run-units.sh $(BUILD)/tests/test_store_pg \
	  $(BUILD)/tests/test_changelog

api: $(BUILD)/grantd
	GRANTD_BIN=$(abspath $(BUILD)/grantd) $(PY) -m pytest -q tests/api $(PYTEST_ARGS)

# The same API suite with every test site on PostgreSQL: a throw-away server
# (tools/pg-test.sh), one database per site; tests marked sqlite_only are skipped there.
api-pg: $(BUILD)/grantd
	sh tools/pg-test.sh env GRANTD_TEST_ENGINE=postgresql GRANTD_BIN=$(abspath $(BUILD)/grantd) \
	  $(PY) -m pytest -q tests/api $(PYTEST_ARGS)

# The unit tests (the PostgreSQL engine's too) and the API suite (on SQLite) under
# AddressSanitizer + UndefinedBehaviorSanitizer, less the slow-client
# tests (they wait out 30 s server timeouts; nothing in them is memory-sensitive) and with a
# 20 s policy property run (the plain pass runs it 60 s).
asan:
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) GRANTD_PROPERTY_SECONDS=20 \
	$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  PYTEST_ARGS="--ignore=tests/api/test_slowclients.py $(PYTEST_ARGS)" unit unit-pg api

check: deps-test
	@$(MAKE) --no-print-directory fmt-check seam-check
	@$(MAKE) --no-print-directory all unit unit-pg
	@$(MAKE) --no-print-directory asan
	@sh tests/fuzz/run.sh
	@$(MAKE) --no-print-directory browser
	@$(MAKE) --no-print-directory api-pg
	@$(MAKE) --no-print-directory api

# Headless Debian Chromium via playwright-core (pinned in tests/browser/package-lock.json).
browser: $(BUILD)/grantd
	@sh tools/deps.sh chromium curl && { command -v npm >/dev/null || sh tools/deps.sh nodejs npm; }
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	GRANTD_BIN=$(abspath $(BUILD)/grantd) node --test tests/browser/

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')
# The storage seam (store.h): only the engine files talk to a database driver.
ENGINE_FILES := src/store_sqlite.c src/store_sqlite_schema.c src/store_pg.c
seam-check:
	@bad=$$(grep -l 'sqlite3\|libpq' src/*.c src/*.h src/models/* | grep -vxF $(ENGINE_FILES:%=-e %)); \
	 if [ -n "$$bad" ]; then echo "seam-check: a driver outside the engines: $$bad"; exit 1; fi; \
	 echo "seam-check: only $(ENGINE_FILES) use a database driver"

fmt-check:
	@out=$$(git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run 2>&1 | grep -c warning:); \
	 if [ "$${out:-0}" != 0 ]; then echo "clang-format: $$out differences (run make fmt)"; exit 1; fi

# Benchmarks (issues 6 and 13), not part of check: seeds 1,000,000 and 100,000 grant requests
# into SQLite and 1,000,000 into a private PostgreSQL cluster (all cached in bench/out/), runs
# eight wrk scenarios against grantd on both engines and nginx, pgbench on the same cluster,
# writes bench/results.md. Knobs: BENCH_ENGINES, BENCH_GRANTS, BENCH_SECONDS, BENCH_ROUNDS,
# BENCH_PERF (see bench/run.sh); ~30-40 min, plus the first PostgreSQL seed (about an hour).
bench: deps
	@sh bench/run.sh

clean:
	rm -rf build build-asan build-fuzz build-bench

# The authorization policy property test for longer than make check's 60 s (nightly-style):
# PROPERTY_SECONDS of random requests with seed PROPERTY_SEED.
PROPERTY_SECONDS ?= 1800
PROPERTY_SEED    ?= 1207
.PHONY: property-long
property-long: $(BUILD)/grantd
	GRANTD_BIN=$(abspath $(BUILD)/grantd) GRANTD_PROPERTY_SECONDS=$(PROPERTY_SECONDS) \
	GRANTD_PROPERTY_SEED=$(PROPERTY_SEED) $(PY) -m pytest -q tests/api/test_policy_property.py $(PYTEST_ARGS)
