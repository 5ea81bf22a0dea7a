# The two commands a user needs: `make demo` and `make test`. Everything else
# here is a step of those two, useful on its own while developing.
JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 30
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)

.PHONY: all bootstrap build check test test-asan test-tsan fuzz demo demo-lambda bench chaos lambda-package package \
  format tidy clean

all: build

bootstrap:
	bash scripts/bootstrap.sh

build: bootstrap
	cmake -S . -B $(BUILD) -DSALESFLOW_WERROR=ON
	cmake --build $(BUILD) -j $(JOBS)

# The whole suite in the normal build (the quick loop while developing).
check: build
	ctest --test-dir $(BUILD) $(CTEST_FLAGS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer;
# its local AWS stack gets other ports so both builds can run side by side.
test-asan: bootstrap
	cmake -S . -B $(BUILD_ASAN) -DSALESFLOW_WERROR=ON -DSALESFLOW_SANITIZE=ON \
	  -DSALESFLOW_BENCH=OFF -DSALESFLOW_LOCALAWS_PORT_BASE=25760
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	# alloc_dealloc_mismatch=0: Debian's libsimdjson (not instrumented) allocates
	# its parser implementation with operator new and the header-inlined
	# destructor frees it through the library; ASan reports that boundary, not a bug of ours.
	# The moto subset checks the protocol against a second implementation; the
	# normal build runs it, its memory safety is what every other test covers.
	# The localaws suites test the local stack (Node), not a line of salesflow;
	# the deploy suites check templates and the calls the normal build made.
	# The browser test of the console spends its time in chromium and Node; the
	# console's C++ (the same correction loop) runs under ASan in e2e.dlq_replay
	# and e2e.dlq_discard.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:alloc_dealloc_mismatch=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_ASAN) $(CTEST_FLAGS) -LE '^(moto|localaws|deploy|e2e-console)$$'

# The unit suites of the layers with threads (base, aws, pipeline, app), the
# live pipeline tests and the stop-under-load test again under ThreadSanitizer
# (its own ports). The core's unit suites are single-threaded byte crunching,
# and isa-l's inflate misreads a byte-at-a-time gzip header under TSan's memcpy
# interceptor, so they run in the normal and ASan builds only. The libraries
# salesflow calls are not instrumented: TSan sees their locks, not their
# memory; tests/tsan.supp names the reports that are not ours.
TSAN_LABELS ?= ^unit-(base|aws|pipeline|app)$$|^live-pipeline$$|^e2e-stop_under_load$$
test-tsan: bootstrap
	cmake -S . -B $(BUILD_TSAN) -DSALESFLOW_WERROR=ON -DSALESFLOW_TSAN=ON \
	  -DSALESFLOW_BENCH=OFF -DSALESFLOW_LOCALAWS_PORT_BASE=25860
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target salesflow test_base test_aws test_pipeline \
	  test_pipeline_live test_app
	STOP_UNDER_LOAD_RECORDS=8000 STOP_UNDER_LOAD_ROUNDS=5 TSAN_OPTIONS="halt_on_error=1 abort_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --test-dir $(BUILD_TSAN) $(CTEST_FLAGS) -L '$(TSAN_LABELS)'

# Every libFuzzer target for FUZZ_SECONDS each, built with clang-14.
fuzz: bootstrap
	CXX=clang++-14 cmake -S . -B $(BUILD_FUZZ) -DSALESFLOW_FUZZ=ON -DSALESFLOW_TESTS=OFF \
	  -DSALESFLOW_BENCH=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzzers
	bash scripts/run-fuzzers.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

test: check test-asan test-tsan fuzz

demo: build
	bash scripts/demo.sh $(BUILD)

# The same demo with `salesflow lambda` in the local Lambda (tools/localaws/lambda),
# fed by an SQS event source mapping, as it runs on AWS Lambda (docs/lambda.md).
demo-lambda: build
	bash scripts/demo.sh $(BUILD) --lambda

bench: build
	bash scripts/run-benchmarks.sh $(BUILD)

# The AWS Lambda zip for provided.al2023 (docs/lambda.md): $(BUILD)/salesflow-lambda.zip.
lambda-package: bootstrap
	cmake -S . -B $(BUILD) -DSALESFLOW_WERROR=ON
	cmake --build $(BUILD) -j $(JOBS) --target lambda-package

# The artifacts, all in $(BUILD): the Lambda zip, the Debian package
# salesflow_<version>_amd64.deb (packaging/deb; cpack) and the worker image of
# deploy/Containerfile (buildah, offline) as the OCI archive salesflow-image.tar,
# also tagged localhost/salesflow:<version> in buildah's store.
package: bootstrap
	cmake -S . -B $(BUILD) -DSALESFLOW_WERROR=ON
	cmake --build $(BUILD) -j $(JOBS) --target salesflow lambda-package help-texts
	cd $(BUILD) && cpack -G DEB
	bash packaging/container/build-image.sh $(BUILD)/salesflow-lambda.zip \
	  localhost/salesflow:$$($(BUILD)/salesflow --version | awk '{print $$NF}') $(BUILD)/salesflow-image.tar

# Workers killed at random through a TCP fault proxy, then the exact check of
# table and DLQ; not part of `test`, bounded by CHAOS_SECONDS (docs/reliability.md).
chaos: build
	bash scripts/chaos.sh $(BUILD)

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ)
