# Thin front-end over CMake. The two commands a new user needs:
#   make run    install missing packages -> configure -> build -> run the main job
#   make test   install missing packages -> configure -> build -> run the Criterion tests (ctest)
# Other targets: make build, make bench, make sanitize (ASan+UBSan build + tests), make clean.
BUILD    ?= build
TYPE     ?= Release
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKEOPT ?=

.PHONY: all deps configure build run test bench sanitize clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) $(CMAKEOPT) > $(BUILD).configure.log 2>&1 || \
	  { cat $(BUILD).configure.log; exit 1; }

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job. Until the suite runner exists: the default real dataset and the engine benchmark.
run: build
	$(BUILD)/hashlab data info fashion-mnist
	$(BUILD)/hashlab bench engine

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/install-deps.sh --bench
	tests/bench/compare_engine.sh $(BUILD) 2 3
	/usr/bin/python3 tests/bench/retrieval_peers.py --hashlab $(BUILD)/hashlab --threads 2

sanitize:
	$(MAKE) test BUILD=build-asan TYPE=RelWithDebInfo CMAKEOPT=-DHASHLAB_SANITIZE=ON

clean:
	rm -rf $(BUILD) $(BUILD).configure.log build-asan build-asan.configure.log
