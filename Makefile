# The two commands of the README: `make run` and `make test`. Both install
# what is missing first (scripts/deps.sh), so a fresh Debian machine needs
# nothing else. Build trees: build/ (release, for run and bench) and
# build-test/ (ASan + UBSan, for test).

BUILD     ?= build
TESTBUILD ?= build-test
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 300

.PHONY: all deps build run test fuzz bench clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dbuildtype=release -Dtests=false >/dev/null
	@ninja -C $(BUILD)

run: build
	@sh scripts/run-demo.sh $(BUILD)

test: deps
	@[ -f $(TESTBUILD)/build.ninja ] || CC=clang meson setup $(TESTBUILD) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dfuzz=true >/dev/null
	@ninja -C $(TESTBUILD)
	@rm -f $(TESTBUILD)/meson-logs/testlog.json
	@meson test -C $(TESTBUILD) --print-errorlogs --num-processes 2 >$(TESTBUILD)/test-output.txt 2>&1; \
		status=$$?; tail -n 40 $(TESTBUILD)/test-output.txt; \
		python3 tests/summary.py $(TESTBUILD)/meson-logs/testlog.json

fuzz: deps
	@[ -f $(FUZZBUILD)/build.ninja ] || CC=clang meson setup $(FUZZBUILD) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true -Dtests=false >/dev/null
	@ninja -C $(FUZZBUILD)
	@sh tests/fuzz/run.sh $(FUZZBUILD) $(FUZZ_SECONDS)

bench: build
	@sh bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD)
