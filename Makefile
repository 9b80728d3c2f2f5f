# shrink: fit a video into a size.
# SPDX-License-Identifier: GPL-3.0-or-later

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DATADIR ?= $(PREFIX)/share
CC      ?= cc
PKGS    := libavformat libavcodec libavfilter libswscale libswresample libavutil imagequant
BUILD   ?= build

# Read when make parses this file: the targets a new user types first (demo, check, asan,
# bench) run `deps` and then a sub-make, which parses it again once the packages are in.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
ALL_CFLAGS = -std=c17 -D_POSIX_C_SOURCE=200809L -pthread $(WARN) $(CFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lgif -lgomp -lm   # giflib has no pkg-config file; libgomp: see stages/palette.c

# Faces (src/faces/): dlib's HOG detector when dlib is installed (tests/deps.sh installs it),
# else a build without a detector, which says faces are off. FACES=none forces the latter.
CXX     ?= c++
FACES   ?= $(if $(shell pkg-config --exists dlib-1 2>/dev/null && echo y),dlib,none)
ALL_CXXFLAGS = -std=c++14 -pthread $(WARN) $(CFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP
ifeq ($(FACES),dlib)
# Its .pc names libjpeg, BLAS and LAPACK by their development symlinks (the headers' templates
# call LAPACK themselves): tests/deps.sh installs those too.
DLIB_LIBS := $(shell pkg-config --libs dlib-1 2>/dev/null)
FACES_OBJ := $(BUILD)/src/faces/dlib.o $(BUILD)/src/faces/model.o
LDLIBS  += $(DLIB_LIBS) -lstdc++
else
FACES_OBJ := $(BUILD)/src/faces/none.o
endif

LIB_SRC := $(sort $(wildcard src/common/*.c src/input/*.c src/stages/*.c src/encoders/*.c \
                             src/output/*.c src/solver/*.c src/job/*.c src/metrics/*.c src/gif/*.c \
                             src/chunk/*.c src/show/*.c src/neural/*.c src/faces/track.c src/faces/score.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(FACES_OBJ)
CLI_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard src/cli/*.c)))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check check-full demo asan install uninstall clean deps headers bench bench-long bench-neural \
        bench-neural-speed

all: $(BUILD)/shrink

# Made afresh: `ar r` into the old archive would keep the objects of deleted sources.
$(BUILD)/libshrink.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/shrink: $(CLI_OBJ) $(BUILD)/libshrink.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Where the installed services file is looked for (src/cli/services.c, docs/SERVICES.md).
$(BUILD)/src/cli/services.o: ALL_CFLAGS += -DSH_DATADIR='"$(DATADIR)"'

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(ALL_CXXFLAGS) -c -o $@ $<

# dlib's face model as plain bytes, made at build time (src/faces/model_gen.cc says why).
$(BUILD)/faces-model-gen: src/faces/model_gen.cc
	@mkdir -p $(@D)
	$(CXX) -std=c++14 -O2 $(WARN) $(PKG_CFLAGS) -o $@ $< $(DLIB_LIBS)

$(BUILD)/src/faces/model.c: $(BUILD)/faces-model-gen
	@mkdir -p $(@D)
	$< > $@.tmp && mv $@.tmp $@

$(BUILD)/src/faces/model.o: $(BUILD)/src/faces/model.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libshrink.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs cmocka)

# Each public header compiles on its own.
headers:
	@for h in include/shrink/*.h; do \
	  printf '#include "%s"\n' "$${h#include/}" | $(CC) -std=c17 -Wall -Wextra -Werror -Iinclude $(PKG_CFLAGS) -fsyntax-only -x c - || exit 1; \
	done; echo "headers: each compiles alone"

deps:
	@tests/deps.sh

# make check: the quick tier, every script with the media sweeps cut short (minutes);
# make check-full: every shared clip at every budget as well (tests/run.sh says which).
# TESTS="fill media" runs only the scripts whose names contain one of the words (make asan too).
check: deps
	$(MAKE) all $(UNIT_BIN) $(FUZZ_REPLAY) headers
	SHRINK_TEST_TIER=quick tests/run.sh $(BUILD) $(TESTS)

check-full: deps
	$(MAKE) all $(UNIT_BIN) $(FUZZ_REPLAY) headers
	SHRINK_TEST_TIER=full tests/run.sh $(BUILD) $(TESTS)

# shrink against the usual ffmpeg two-pass recipe on ../shared/media: docs/BENCHMARKS.md.
# BENCH_ARGS="--clips bbb,sintel --rates 100" narrows it. The GIF table (docs/GIF.md):
# BENCH_GIF_ARGS="--clips chaplin_bw_360p.mp4 --targets 500k".
# Then the scaling table (docs/SCALE.md): a looped clip through plan/encode-chunk/join at 1 and
# 2 workers, projected to 16 and 64. BENCH_SCALE=0 skips it; BENCH_SCALE_ARGS="--minutes 2" narrows it.
# Then the faces table (issue 16, docs/BENCHMARKS.md): --roi auto against --roi off on clips with
# and without faces, face regions found by OpenCV's cascade (tests/deps.sh bench installs
# python3-opencv and opencv-data). BENCH_FACES=0 skips it; BENCH_FACES_ARGS="--rates 100" narrows it.
# The long-input row is its own target (an hour-long film, about an hour of runs): make bench-long.
BENCH_SCALE ?= 1
BENCH_FACES ?= 1
bench:
	@tests/deps.sh $(if $(filter 0,$(BENCH_FACES)),,bench)
	$(MAKE) all
	tests/bench/bench.py --shrink $(BUILD)/shrink --out docs/BENCHMARKS.md $(BENCH_ARGS)
	tests/bench/bench_gif.py --shrink $(BUILD)/shrink --out docs/GIF.md $(BENCH_GIF_ARGS)
	@if [ "$(BENCH_SCALE)" != 0 ]; then tests/bench/bench_scale.py --shrink $(BUILD)/shrink $(BENCH_SCALE_ARGS); \
	 else echo "bench: scaling table skipped (BENCH_SCALE=0)"; fi
	@if [ "$(BENCH_FACES)" != 0 ]; then tests/bench/bench_faces.py --shrink $(BUILD)/shrink --out docs/BENCHMARKS.md $(BENCH_FACES_ARGS); \
	 else echo "bench: faces table skipped (BENCH_FACES=0)"; fi

# Issue 20's row: an hour-long film looped from the shared clips (built once, cached in
# BENCH_LONG_WORK), at 50 MB: shrink (default, --speed fast) beside the two-pass recipe, each
# timed against one decode of the film: docs/LONG.md. BENCH_LONG_ARGS="--minutes 120" etc.
BENCH_LONG_WORK ?= $(or $(TMPDIR),/tmp)/shrink-bench-long
bench-long: deps
	$(MAKE) all
	tests/bench/long.py --shrink $(BUILD)/shrink --work $(BENCH_LONG_WORK) --out $(BENCH_LONG_WORK)/long.md $(BENCH_LONG_ARGS)

# Issue 17's table (docs/NEURAL.md, Results): --codec neural against SVT-AV1, x264 and GIF at equal
# bytes, 2-200 KB per minute of film, scored at <= 360p: its own target like bench-long (about 40
# minutes, the neural fits dominate). Raw rows and the table in BENCH_NEURAL_WORK, the curves in
# docs/neural_curves.svg. A quick look: BENCH_NEURAL_ARGS="--clips talkinghead_retalk4_700.mp4
# --budgets 5,50 --limit-base 10 --limit-per-s 0".
BENCH_NEURAL_WORK ?= $(BUILD)/bench-neural
bench-neural: deps
	$(MAKE) all
	tests/bench/bench_neural.py --shrink $(BUILD)/shrink --json $(BENCH_NEURAL_WORK)/neural_results.json \
	    --md $(BENCH_NEURAL_WORK)/neural_results.md --svg docs/neural_curves.svg $(BENCH_NEURAL_ARGS)

demo: deps
	$(MAKE) all
	tests/demo.sh $(BUILD)/shrink

asan: deps
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fsanitize=address,undefined" all $(UNIT_BIN:$(BUILD)/%=build-asan/%) $(FUZZ_REPLAY:$(BUILD)/%=build-asan/%) headers
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SHRINK_TEST_TIER=quick tests/run.sh build-asan $(TESTS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DATADIR)/shrink
	install -m 755 $(BUILD)/shrink $(DESTDIR)$(BINDIR)/shrink
	install -m 644 docs/shrink.1 $(DESTDIR)$(MANDIR)/man1/shrink.1
	install -m 644 docs/shrink.bash-completion $(DESTDIR)$(BASHCOMPDIR)/shrink
	install -m 644 data/services $(DESTDIR)$(DATADIR)/shrink/services

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/shrink $(DESTDIR)$(MANDIR)/man1/shrink.1 $(DESTDIR)$(BASHCOMPDIR)/shrink \
	      $(DESTDIR)$(DATADIR)/shrink/services
	-rmdir $(DESTDIR)$(DATADIR)/shrink 2>/dev/null

clean:
	rm -rf build build-asan build-fuzz build-nofaces

# ---- reliability (docs/RELIABILITY.md): fuzzing and valgrind ----
# tests/fuzz/fuzz_NAME.c is one libFuzzer harness. Each is built twice:
#   $(BUILD)/tests/fuzz_NAME_replay  with tests/fuzz/replay.c's main(), any compiler: the
#                                    suite replays tests/fuzz/corpus/NAME/ with it
#   build-fuzz/fuzz/fuzz_NAME        with libFuzzer (clang): `make fuzz` runs each for
#                                    FUZZ_SECONDS (CI: 10)
# fuzz_args is the CLI's own main() (renamed) with the batch replaced at link time.
FUZZERS      := size args input
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_REPLAY  := $(FUZZERS:%=$(BUILD)/tests/fuzz_%_replay)
FUZZ_DEPS_size  = $(BUILD)/libshrink.a
FUZZ_DEPS_input = $(BUILD)/libshrink.a
FUZZ_DEPS_args  = $(BUILD)/fuzz/cli_main.o $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ)) $(BUILD)/libshrink.a
FUZZ_LINK_args  = -Wl,--wrap=batch_run,--wrap=make_dirs

.PHONY: fuzz fuzz-build valgrind

$(BUILD)/fuzz/cli_main.o: src/cli/main.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Dmain=sh_cli_main -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/tests/fuzz_%_replay: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $$(FUZZ_DEPS_$$*)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(FUZZ_LINK_$*) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_DEPS_$$*)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer $(FUZZ_LINK_$*) -o $@ $^ $(LDLIBS)

fuzz-build:
	@tests/deps.sh fuzz
	$(MAKE) BUILD=build-fuzz FACES=none CC=$(FUZZ_CC) CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	        LDFLAGS="$(FUZZ_SAN)" $(FUZZERS:%=build-fuzz/fuzz/fuzz_%)

fuzz: fuzz-build
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZERS)

# One real shrink of a short synthetic clip under valgrind: no definite leak, no invalid access.
valgrind:
	@tests/deps.sh valgrind
	$(MAKE) all
	tests/valgrind.sh $(BUILD)/shrink

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# The learned codec's trainer (docs/NEURAL.md): its loops over units and levels are
# reductions, which only vectorise when the compiler may reassociate them. Training only:
# the renderer (model.c), which must give the same pictures on every machine, keeps -O2.
$(BUILD)/src/neural/train.o $(BUILD)/src/neural/backprop.o: ALL_CFLAGS += -O3 -ffast-math -fno-finite-math-only

# The learned codec's trainer against libtorch on one model (docs/NEURAL.md, "libtorch or
# plain C"): this trainer's steps a second, then PyTorch's (libtorch 1.13) when python3-torch
# is installed (not installed here: 231 packages, 831 MB; apt-get install python3-torch).
bench-neural-speed: $(BUILD)/libshrink.a
	$(CC) $(ALL_CFLAGS) -o $(BUILD)/nn_speed tests/bench/nn_speed.c $(BUILD)/libshrink.a $(LDLIBS)
	$(BUILD)/nn_speed 10
	@if /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  /usr/bin/python3 tests/bench/torch_speed.py --threads 2 --interp isel --batches 8192,32768; \
	  /usr/bin/python3 tests/bench/torch_speed.py --threads 1 --interp isel --batches 8192,32768; \
	 else echo "bench-neural-speed: no python3-torch: libtorch not measured"; fi
