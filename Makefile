# sbckit - a Session Border Controller built from small composable tools.
#
# Everything is found by name: lib/WING/*.c is the library (its wings in
# lib/README.md), tools/NAME.c is a tool, tests/unit/test_*.c a unit test,
# tests/helpers/*.c a test helper, tests/fuzz/fuzz_*.c a libFuzzer target,
# bench/*.c a benchmark program.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
DOCDIR     ?= $(PREFIX)/share/doc/sbckit
SYSCONFDIR ?= /etc
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DESTDIR    ?=

O          ?= build
PKG_CONFIG ?= pkg-config
PKGS       := openssl libsrtp2 libpcap liburing
WERROR     ?= 1
FUZZ_SECONDS ?= 5
CLANG      ?= clang

# systemd's unit directory under our PREFIX, as its pkg-config file lays
# it out; $(PREFIX)/lib/systemd/system without one.
ifeq ($(origin SYSTEMDUNITDIR),undefined)
SYSTEMDUNITDIR := $(or $(shell $(PKG_CONFIG) --define-variable=prefix=$(PREFIX) \
	--define-variable=rootprefix=$(PREFIX) \
	--variable=systemdsystemunitdir systemd 2>/dev/null), \
	$(PREFIX)/lib/systemd/system)
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes
ifeq ($(WERROR),1)
WARN += -Werror
endif
# Our flags first, the user's CFLAGS appended (never overwritten).
SBK_CFLAGS := -O2 -g -D_GNU_SOURCE -Ilib -DSBK_VERSION='"$(VERSION)"' $(WARN) \
	$(PKG_CFLAGS) $(SAN_CFLAGS) $(CFLAGS)
SBK_LDFLAGS := $(SAN_CFLAGS) $(LDFLAGS)
SBK_LIBS := $(PKG_LIBS) -lm $(LIBS)

WINGS      := base media ng sip relay cap gw
LIB_SRC    := $(sort $(foreach w,$(WINGS),$(wildcard lib/$(w)/*.c)))
LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
LIBA       := $(O)/libsbckit.a
TOOL_SRC   := $(filter-out tools/common.c,$(sort $(wildcard tools/*.c)))
TOOLS      := $(TOOL_SRC:tools/%.c=$(O)/bin/%)
COMMON_OBJ := $(O)/tools/common.o
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNITS      := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
HELP_SRC   := $(sort $(wildcard tests/helpers/*.c))
HELPERS    := $(HELP_SRC:tests/helpers/%.c=$(O)/tests/helpers/%)
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCHES    := $(BENCH_SRC:bench/%.c=$(O)/bench/%)
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS    := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)
MAN1       := $(sort $(wildcard man/man1/*.1))
MAN7       := $(sort $(wildcard man/man7/*.7))

.PHONY: all check check-run deps deps-check tests lint asan fuzz fuzz-run \
	bench install uninstall clean demo demo-run deb demo-webrtc
.DEFAULT_GOAL := all
.SECONDARY:

all: $(O)/.pkgs $(TOOLS)

# Fail early, with the fix, when the build dependencies are missing.
$(O)/.pkgs:
	@$(PKG_CONFIG) --exists $(PKGS) || { \
	  echo "sbckit: missing build dependencies ($(PKGS));" \
	       "run 'make deps' as root, or: $$(scripts/deps.sh --print build)" >&2; \
	  exit 1; }
	@mkdir -p $(@D) && touch $@

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(SBK_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/bin/%: $(O)/tools/%.o $(COMMON_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(SBK_LDFLAGS) -o $@ $^ $(SBK_LIBS)

$(O)/tests/test_%: $(O)/tests/unit/test_%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(SBK_LDFLAGS) -o $@ $^ $(SBK_LIBS)

$(O)/tests/helpers/%: $(O)/tests/helpers/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(SBK_LDFLAGS) -o $@ $^ $(SBK_LIBS)

$(O)/bench/%: $(O)/bench/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(SBK_LDFLAGS) -o $@ $^ $(SBK_LIBS)

tests: all $(UNITS) $(HELPERS) $(BENCHES)

# `make check` is what a new user runs: install what is missing, then build
# and run everything in a fresh make (so pkg-config sees new packages).
check: deps-check
	@$(MAKE) --no-print-directory check-run

check-run: tests lint
	@$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_SECONDS) \
	  > $(O)/fuzz.log 2>&1; st=$$?; \
	  SBK_FUZZ_STATUS=$$st SBK_FUZZ_LOG=$(O)/fuzz.log \
	  tests/run $(O)

deps:
	scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

lint:
	@scripts/lint.sh

# ASan + UBSan build in its own directory, running the whole suite.
asan:
	@$(MAKE) --no-print-directory O=build-asan \
	  SAN_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  tests/run build-asan

# libFuzzer targets: the library is built once more with clang and the
# sanitizers (build/fuzz/lib/), and each target links against it.
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Ilib -fsanitize=address,undefined \
	$(PKG_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:%.c=$(O)/fuzz/%.o)

$(O)/fuzz/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(O)/fuzz/libsbckit-fuzz.a: $(FUZZ_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(O)/fuzz/libsbckit-fuzz.a
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -lm

fuzz: $(FUZZERS)

# A short bounded run of every target over its seed corpus.
fuzz-run: $(FUZZERS)
	@st=0; for f in $(FUZZERS); do \
	  n=$$(basename $$f); c=tests/fuzz/corpus/$$n; w=$(O)/fuzz/work-$$n; \
	  mkdir -p $$w; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	      -print_final_stats=0 $$w $$c >$(O)/fuzz/$$n.log 2>&1; then \
	    echo "ok - fuzz $$n ($(FUZZ_SECONDS)s)"; \
	  else echo "not ok - fuzz $$n: see $(O)/fuzz/$$n.log"; \
	    tail -40 $(O)/fuzz/$$n.log | sed 's/^/# /'; st=1; fi; \
	done; exit $$st

bench: tests
	@for b in bench/*.sh; do [ -x "$$b" ] && SBK_BUILD=$(O) "$$b"; done; true

demo: deps-demo
	@$(MAKE) --no-print-directory demo-run

deps-demo:
	@scripts/deps.sh demo

demo-run: all $(HELPERS)
	scripts/demo.sh $(O)

# `make demo-webrtc`: a browser phone (headless Chromium, JsSIP) over WSS
# and DTLS-SRTP through the gateway; installs what the tests install.
demo-webrtc: deps-check
	@$(MAKE) --no-print-directory all $(HELPERS)
	scripts/demo-webrtc.sh $(O)

# `make install` puts in place: the tools, man pages, completions; the
# examples and documentation under DOCDIR; the systemd units under
# SYSTEMDUNITDIR; the sbckit user (sysusers.d) and its directories
# (tmpfiles.d); and SYSCONFDIR/sbckit/sbc-gateway.conf, commented, only if
# there is none yet (an existing configuration is never overwritten).
# Units, configuration and examples name BINDIR and SYSCONFDIR, not the
# /usr/local/bin and /etc they are written with. `make uninstall` removes
# all of it except a configuration that differs from the one installed
# (it says so), and the directories that are not empty then.
SUBST := sed -e 's|/usr/local/bin|$(BINDIR)|g' \
	-e 's|/etc/sbckit|$(SYSCONFDIR)/sbckit|g' \
	-e 's|/etc/default|$(SYSCONFDIR)/default|g'
EXAMPLES := $(shell cd examples 2>/dev/null && find . -type f | sort)
UNITS_SRC := $(sort $(wildcard examples/systemd/*.service))
DOCS     := README.md $(sort $(wildcard doc/*.md))
CONF     := $(DESTDIR)$(SYSCONFDIR)/sbckit/sbc-gateway.conf

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	  $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSTEMDUNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/sbckit
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/)
	for f in completions/bash/*; do [ -f "$$f" ] && \
	  install -m 644 "$$f" $(DESTDIR)$(BASHCOMPDIR)/; done; true
	for f in completions/zsh/_*; do [ -f "$$f" ] && \
	  install -m 644 "$$f" $(DESTDIR)$(ZSHCOMPDIR)/; done; true
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	for f in $(EXAMPLES); do \
	  install -d $(DESTDIR)$(DOCDIR)/examples/$$(dirname $$f) && \
	  $(SUBST) examples/$$f > $(DESTDIR)$(DOCDIR)/examples/$$f && \
	  chmod 644 $(DESTDIR)$(DOCDIR)/examples/$$f || exit 1; done
	for u in $(UNITS_SRC); do \
	  $(SUBST) $$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$u) && \
	  chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$u) || exit 1; done
	install -m 644 examples/sysusers.d/sbckit.conf $(DESTDIR)$(SYSUSERSDIR)/
	$(SUBST) examples/tmpfiles.d/sbckit.conf \
	  > $(DESTDIR)$(TMPFILESDIR)/sbckit.conf
	chmod 644 $(DESTDIR)$(TMPFILESDIR)/sbckit.conf
	@if [ -e $(CONF) ]; then \
	  echo "install: keeping the existing $(CONF)"; \
	else $(SUBST) examples/sbc-gateway.conf > $(CONF) && \
	  chmod 644 $(CONF); fi

uninstall:
	rm -f $(TOOL_SRC:tools/%.c=$(DESTDIR)$(BINDIR)/%)
	rm -f $(MAN1:man/man1/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(MAN7:man/man7/%=$(DESTDIR)$(MANDIR)/man7/%)
	for f in completions/bash/*; do rm -f $(DESTDIR)$(BASHCOMPDIR)/$$(basename $$f); done
	for f in completions/zsh/_*; do rm -f $(DESTDIR)$(ZSHCOMPDIR)/$$(basename $$f); done
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(EXAMPLES))
	rm -f $(UNITS_SRC:examples/systemd/%=$(DESTDIR)$(SYSTEMDUNITDIR)/%)
	rm -f $(DESTDIR)$(SYSUSERSDIR)/sbckit.conf $(DESTDIR)$(TMPFILESDIR)/sbckit.conf
	@if [ -e $(CONF) ] && ! $(SUBST) examples/sbc-gateway.conf | \
	    cmp -s - $(CONF); then \
	  echo "uninstall: keeping $(CONF): changed since install"; \
	else rm -f $(CONF); fi
	@find $(DESTDIR)$(DOCDIR) -depth -type d -empty -delete 2>/dev/null; \
	  rmdir $(DESTDIR)$(SYSCONFDIR)/sbckit 2>/dev/null; true

# `make deb`: the Debian package (debian/), built in a copy of the tree
# under $(O)/deb and checked with lintian (scripts/deb.sh).
deb:
	scripts/deb.sh $(O)

clean:
	rm -rf build build-asan

-include $(shell find $(O) build-asan -path '*/deb' -prune -o -name '*.d' -type f -print 2>/dev/null)
