# shrink: fit a video into a size.
# SPDX-License-Identifier: GPL-3.0-or-later

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
CC      ?= cc
PKGS    := libavformat libavcodec libswscale libswresample libavutil
BUILD   ?= build

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
ALL_CFLAGS = -std=c17 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lm

LIB_SRC := $(sort $(wildcard src/common/*.c src/input/*.c src/stages/*.c src/encoders/*.c \
                             src/output/*.c src/solver/*.c src/job/*.c src/metrics/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(BUILD)/src/cli/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check demo asan install uninstall clean deps headers bench

all: $(BUILD)/shrink

$(BUILD)/libshrink.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/shrink: $(CLI_OBJ) $(BUILD)/libshrink.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
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

check: deps
	$(MAKE) all $(UNIT_BIN) headers
	tests/run.sh $(BUILD)

demo: deps all
	tests/demo.sh $(BUILD)/shrink

asan: deps
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fsanitize=address,undefined" all $(UNIT_BIN:$(BUILD)/%=build-asan/%) headers
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run.sh build-asan

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(BUILD)/shrink $(DESTDIR)$(BINDIR)/shrink

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/shrink

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
