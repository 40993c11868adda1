# gpuhour - one binary, `gpuhour`, and its tests.
#
#   make            build build/gpuhour
#   make test       build and run the unit and integration tests
#   make demo       build and run the whole story on a local devnet
#   make asan       the test suite under AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets (clang); FUZZ_RUNS=N runs them
#   make bench      benchmarks; BENCH=AREA runs one area
#   make format     reformat; make format-check checks
#   make install    PREFIX=/usr/local DESTDIR=
#
# CC, CFLAGS, LDFLAGS, LDLIBS, BUILD, CUDA_HOME and V=1 may be overridden.

SHELL     := /bin/bash
CC        ?= cc
CFLAGS    ?= -O2 -g
LDFLAGS   ?=
LDLIBS    ?=
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CUDA_HOME ?= /usr/local/cuda
NVCC      ?= $(CUDA_HOME)/bin/nvcc
CLANG     ?= clang
V         ?= 0
BENCH     ?=
T         ?=
FUZZ_RUNS ?= 1000000

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -std=c17 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
ifeq ($(CI),true)
WARN += -Werror
endif

# Evaluated when a recipe runs, after the dependency check has passed.
PKG_CFLAGS = $(shell pkg-config --cflags libsodium libsecp256k1)
PKG_LIBS = $(shell pkg-config --libs libsodium libsecp256k1)

ALL_CPPFLAGS = -I. -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DGH_PREFIX='"$(PREFIX)"'
ALL_CFLAGS = $(WARN) -fstack-protector-strong -fopenmp -MMD -MP \
	$(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -fopenmp $(LDFLAGS)
ALL_LDLIBS = $(PKG_LIBS) -lnng -llmdb -lpthread -ldl -lm $(LDLIBS)

# Sources: every .c of a folder belongs to the library of that folder;
# cli/ holds the binary's front end.
LIB_DIRS := base ledger market attest node cuda
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
CLI_SRCS := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard tests/*.c) \
	$(foreach d,$(LIB_DIRS) cli,$(wildcard tests/$(d)/*_test.c))
BENCH_SRCS := $(wildcard tests/bench/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)
CU_SRCS := $(wildcard cuda/*.cu)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_LIB_OBJS := $(filter-out $(BUILD)/obj/cli/main.o,$(CLI_OBJS))
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o)

# The dashboard's static files, embedded into the library as a
# generated C array (scripts/embed.sh).
DASH_FILES := $(sort $(wildcard node/dashboard/*.html node/dashboard/*.css \
	node/dashboard/*.js))
DASH_OBJ := $(BUILD)/gen/dashboard.o
LIB_OBJS += $(DASH_OBJ)

BIN := $(BUILD)/gpuhour
TEST_BIN := $(BUILD)/gpuhour-test
BENCH_BIN := $(BUILD)/gpuhour-bench
DEPS_OK := $(BUILD)/.deps-ok

# CUDA: the backend is a module the binary loads at run time.
HAVE_NVCC := $(shell test -x $(NVCC) && echo 1)
ifeq ($(HAVE_NVCC),1)
CUDA_MOD := $(if $(CU_SRCS),$(BUILD)/gpuhour-cuda.so)
NVCC_FLAGS ?= -O2 -std=c++17 --compiler-options -fPIC,-Wall,-Wextra \
	-Werror all-warnings
else
CUDA_MOD :=
ifeq ($(filter clean format format-check,$(MAKECMDGOALS)),)
$(info gpuhour: nvcc not found at $(NVCC): building the CPU backend only)
endif
endif

.SECONDARY:

.PHONY: all test demo asan fuzz fuzz-run bench install clean format \
	format-check deps

all: $(BIN) $(CUDA_MOD)

deps: $(DEPS_OK)

# Installs missing Debian packages (as root) or says how (otherwise).
$(DEPS_OK): scripts/deps.sh
	$(Q)mkdir -p $(@D)
	$(Q)./scripts/deps.sh
	$(Q)touch $@

$(BUILD)/obj/%.o: %.c | $(DEPS_OK)
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/dashboard.c: $(DASH_FILES) scripts/embed.sh
	$(Q)mkdir -p $(@D)
	$(Q)./scripts/embed.sh $@ $(DASH_FILES)

$(DASH_OBJ): $(BUILD)/gen/dashboard.c | $(DEPS_OK)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): $(LIB_OBJS) $(CLI_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(TEST_BIN): $(TEST_OBJS) $(LIB_OBJS) $(CLI_LIB_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(BENCH_BIN): $(BENCH_OBJS) $(LIB_OBJS) $(CLI_LIB_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(BUILD)/gpuhour-cuda.so: $(CU_SRCS) $(wildcard cuda/*.h) base/base.h
	@$(if $(Q),echo "  NVCC    $@")
	$(Q)$(NVCC) $(NVCC_FLAGS) -I. -shared -o $@ $(CU_SRCS) -lcublas

test: $(BIN) $(TEST_BIN) $(CUDA_MOD)
	$(Q)GH_BIN=$(abspath $(BIN)) GH_SRC=$(CURDIR) $(TEST_BIN) $(T)

demo: $(BIN) $(CUDA_MOD)
	$(Q)$(BIN) demo

bench: $(BIN) $(BENCH_BIN)
	$(Q)GH_BIN=$(abspath $(BIN)) GH_SRC=$(CURDIR) $(BENCH_BIN) $(BENCH)

# The whole suite under AddressSanitizer and UBSan, in its own folder.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
	    CUDA_MOD= test

# libFuzzer targets: each tests/fuzz/X_fuzz.c against the libraries built
# with clang and the fuzzer's instrumentation.
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined
fuzz: $(DEPS_OK)
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) \
	    FUZZ_BUILD=$(FUZZ_BUILD) CC=$(CLANG) \
	    CFLAGS="$(FUZZ_CFLAGS)" CUDA_MOD= fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(FUZZ_BUILD)/%_fuzz: $(BUILD)/obj/tests/fuzz/%_fuzz.o $(LIB_OBJS)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -fopenmp -o $@ $^ \
	    $(ALL_LDLIBS)

# Runs every target for FUZZ_RUNS executions from its seed corpus and
# prints libFuzzer's closing line; a finding fails the target.
fuzz-run: fuzz
	$(Q)set -e; for f in $(FUZZ_BINS); do \
	    n=$$(basename $$f); mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	    if ! $$f -runs=$(FUZZ_RUNS) -max_len=4096 \
	        $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n \
	        > $(FUZZ_BUILD)/$$n.log 2>&1; then \
	        tail -40 $(FUZZ_BUILD)/$$n.log; exit 1; fi; \
	    echo "fuzz $$n: $$(grep -E '^#[0-9]+.*DONE' $(FUZZ_BUILD)/$$n.log)"; \
	done

install: $(BIN) $(CUDA_MOD)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/gpuhour
	install -m 0644 docs/gpuhour.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/gpuhour.bash-completion \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gpuhour
	sed 's,/usr/local/bin/gpuhour,$(PREFIX)/bin/gpuhour,' \
	    docs/gpuhour.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/gpuhour.service
	$(if $(CUDA_MOD),install -d $(DESTDIR)$(PREFIX)/lib/gpuhour)
	$(if $(CUDA_MOD),install -m 0755 $(CUDA_MOD) \
	    $(DESTDIR)$(PREFIX)/lib/gpuhour/)

FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(Q)clang-format -i $(FORMAT_SRCS)

format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
