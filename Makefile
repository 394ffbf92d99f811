# libtl build. `make` builds libtl.a, libtl.so and bin/tl; `make test` runs every test and prints
# the total as "N passed, N failed"; `make demo` runs the main job on real data (quick; `make
# demo-full` the full study); `make asan` runs
# the tests under AddressSanitizer + UBSan; `make fuzz` builds the libFuzzer targets (clang);
# `make bench` runs bench/; `make install PREFIX=...` installs.
# On a fresh Debian machine `make demo` / `make test` first install the system packages they need
# (scripts/install-deps.sh, through apt-get as root).

PREFIX ?= /usr/local
CC ?= cc
BUILD ?= build
OPT ?= -O2 -g
SAN ?=

PKGS := openblas matio
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -llapacke -lz -lm -lpthread

WARN := -Wall -Wextra -Wpedantic -Wshadow
# The stable interface compiles without TL_STATIC_LINKING_ONLY (see include/tl.h): the examples
# are built that way, so a program that sticks to it is shown to need nothing more.
CFLAGS_PUBLIC = -std=c11 $(OPT) $(SAN) $(WARN) -D_GNU_SOURCE -Iinclude $(DEP_CFLAGS) $(CFLAGS)
CFLAGS_ALL = $(CFLAGS_PUBLIC) -fPIC -DTL_STATIC_LINKING_ONLY -Isrc
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
DEPS_STAMP := $(BUILD)/.deps-ok

.PHONY: all lib cli test asan fuzz demo demo-full bench install clean deps format
all: lib cli

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@sh scripts/install-deps.sh
	@pkg-config --exists $(PKGS) || { echo "make: pkg-config cannot find $(PKGS) (sh scripts/install-deps.sh installs them)" >&2; exit 1; }
	@mkdir -p $(BUILD) && touch $@

lib: $(BUILD)/libtl.a $(BUILD)/libtl.so
cli: bin/tl

bin/tl: $(BUILD)/tl
	@mkdir -p bin
	cp $< $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libtl.a: $(LIB_OBJ)
	@rm -f $@
	@echo "ar $@"
	@ar rcs $@ $^

$(BUILD)/libtl.so: $(LIB_OBJ)
	@echo "link $@"
	@$(CC) -shared $(LDFLAGS_ALL) -o $@ $^ $(DEP_LIBS)

$(BUILD)/tl: $(CLI_OBJ) $(BUILD)/libtl.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libtl.a $(DEP_LIBS)

$(BUILD)/tests/%: tests/%.c tests/harness.h $(TEST_SUPPORT) $(BUILD)/libtl.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(TEST_SUPPORT) $(BUILD)/libtl.a $(DEP_LIBS) $(LDFLAGS_ALL)

# Fuzz targets built with a plain main() that replays the committed corpus (tests need no clang).
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(BUILD)/libtl.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< tests/fuzz/replay_main.c $(BUILD)/libtl.a $(DEP_LIBS) $(LDFLAGS_ALL)

$(BUILD)/examples/%: examples/%.c $(BUILD)/libtl.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_PUBLIC) -o $@ $< $(BUILD)/libtl.a $(DEP_LIBS) $(LDFLAGS_ALL)

test: $(DEPS_STAMP) lib $(BUILD)/tl $(TEST_BIN) $(FUZZ_REPLAY) $(EXAMPLE_BIN)
	@BUILD=$(BUILD) sh tests/run_all.sh

asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

# libFuzzer targets (clang), linked with the modules a reader needs. `make fuzz` builds them;
# `sh scripts/fuzz.sh [SECONDS] [TARGET...]` runs them and merges what they find into the corpus.
FUZZ_LIB_SRC := $(LIB_SRC)
fuzz: | $(DEPS_STAMP)
	@sh scripts/install-deps.sh fuzz
	@mkdir -p build-fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$n"; \
	  clang -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude -Isrc \
	    $(DEP_CFLAGS) -o build-fuzz/$$n $$f $(FUZZ_LIB_SRC) $(DEP_LIBS) || exit 1; done

# `make demo` is the quick tour (every family beside its baseline, a few minutes on 2 cores);
# `make demo-full` the full study (about 8 minutes). Both build first with every core unless -j
# was given, so a fresh clone spends its time on the demo, not on a serial build.
DEMO_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))
demo: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(DEMO_JOBS) all
	@sh scripts/demo.sh

demo-full: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(DEMO_JOBS) all
	@DEMO_FULL=1 sh scripts/demo.sh

bench: $(DEPS_STAMP) all
	@sh scripts/install-deps.sh bench
	@sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/tl $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libtl.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libtl.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/tl.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/tl/*.h $(DESTDIR)$(PREFIX)/include/tl/
	install -m 755 bin/tl $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^#define TL_VERSION_STRING "\(.*\)"/\1/p' include/tl/core.h)|' \
	    libtl.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libtl.pc

format:
	clang-format -i include/*.h include/tl/*.h src/*/*.c src/*/*.h cli/*.c cli/*.h tests/*.c tests/*.h

clean:
	rm -rf build build-asan build-fuzz bin

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
