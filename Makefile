# The README's two commands: `make demo` and `make test`.  Both install what a
# fresh Debian machine lacks (scripts/deps.sh) and build with CMake.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build test test-asan test-valgrind demo bench format format-check clean

all: build

deps:
	@sh scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --  --no-print-directory >$(BUILD)/build.log 2>&1 \
	    || { cat $(BUILD)/build.log; exit 1; }
	@echo "built: $(BUILD)/cvm"

# Normal build + every ctest, then the unit tests again under ASan+UBSan.
test:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory format-check
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-valgrind
	@$(MAKE) --no-print-directory test-asan

test-asan:
	@sh scripts/deps.sh test
	@CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DCVM_SANITIZE=address,undefined $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS) -L '' -E '^bench_'

# The unit tests once more under valgrind memcheck (leaks are errors).
test-valgrind: build
	@fail=0; for t in $(BUILD)/tests/test_*; do \
	    [ -x "$$t" ] || continue; \
	    if CVM_TEST_QUICK=1 valgrind -q --error-exitcode=1 --leak-check=full \
	        --errors-for-leak-kinds=definite,indirect \
	        --suppressions=tests/valgrind.supp \
	        "$$t" >/dev/null 2>$(BUILD)/valgrind.log; then \
	        echo "valgrind: $$(basename $$t) clean"; \
	    else echo "valgrind: $$(basename $$t) FAILED"; cat $(BUILD)/valgrind.log; fail=1; fi; \
	done; exit $$fail

demo: build
	@sh scripts/demo.sh $(BUILD)/cvm

bench:
	@sh scripts/deps.sh bench
	@$(MAKE) --no-print-directory build
	@sh bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') \
	    && echo "clang-format: clean"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
