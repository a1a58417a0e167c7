# The two commands of the README: `make run` and `make test`. Both install
# what is missing first (scripts/deps.sh), so a fresh Debian machine needs
# nothing else. Build trees: build/ (release, for run and bench) and
# build-test/ (ASan + UBSan, for test). `make windows` cross-builds the
# Windows programs and their installer in build-win/ (mingw-w64; the
# third-party libraries come from scripts/win-deps.sh's cache); `make test`
# builds it too, since the tests verified under Wine 8 drive those .exe files.

BUILD     ?= build
TESTBUILD ?= build-test
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
WINBUILD  ?= build-win
MINGW_CACHE ?= $(or $(STINT_MINGW_CACHE),$(HOME)/.cache/stint/mingw)
VERSION   := $(shell sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)

.PHONY: all deps build run test fuzz bench clean windows

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dbuildtype=release -Dtests=false >/dev/null
	@ninja -C $(BUILD)

run: build
	@sh scripts/run-demo.sh $(BUILD)

windows: deps
	@STINT_MINGW_CACHE=$(MINGW_CACHE) sh scripts/win-deps.sh
	@[ -f $(WINBUILD)/build.ninja ] || meson setup $(WINBUILD) --cross-file cross/mingw-w64-x86_64.ini \
		--cross-file $(MINGW_CACHE)/current.ini -Dbuildtype=release -Dtests=false >/dev/null
	@# A new library prefix (other Debian versions): meson must look the libraries up again.
	@key=$$(cat $(MINGW_CACHE)/current.key); \
	if [ "$$(cat $(WINBUILD)/mingw-key 2>/dev/null)" != "$$key" ]; then \
		meson configure --clearcache $(WINBUILD) >/dev/null && \
		meson setup --reconfigure $(WINBUILD) >/dev/null && echo "$$key" >$(WINBUILD)/mingw-key; fi
	@nice ninja -C $(WINBUILD)
	@makensis -V2 -DVERSION=$(VERSION) -DBUILD=$(abspath $(WINBUILD)) \
		-DOUTFILE=$(abspath $(WINBUILD))/stint-setup-$(VERSION).exe windows/installer.nsi
	@echo "$(WINBUILD)/stint-setup-$(VERSION).exe"

test: deps windows
	@[ -f $(TESTBUILD)/build.ninja ] || CC=clang meson setup $(TESTBUILD) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dfuzz=true >/dev/null
	@ninja -C $(TESTBUILD)
	@rm -f $(TESTBUILD)/meson-logs/testlog.json
	@STINT_WIN_BUILD=$(abspath $(WINBUILD)) meson test -C $(TESTBUILD) --print-errorlogs --num-processes 2 >$(TESTBUILD)/test-output.txt 2>&1; \
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
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD) $(WINBUILD)
