# Thin front-end over CMake. The two commands a new user needs:
#   make run    install missing packages -> configure -> build -> run the main job
#   make test   install missing packages -> configure -> build -> run the Criterion tests (ctest)
# Other targets: make build, make bench, make bench-agreement (hashlab embed vs torchvision), make sanitize (ASan+UBSan
# build + tests), make test-kernels (the tests again under other OpenBLAS kernels and 2 threads,
# scripts/test-kernels.sh), make clean.
# CUDA=1 (make test CUDA=1, make run CUDA=1): the CUDA variant (-DHASHLAB_CUDA=ON, needs nvcc) in build-cuda; without
# a GPU its device tests check their CPU halves and skip the CUDA halves visibly.
CUDA     ?= 0
TYPE     ?= Release
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKEOPT ?=
ifeq ($(CUDA),1)
NVCC     ?= $(shell command -v nvcc 2>/dev/null || ls -d /usr/local/cuda*/bin/nvcc 2>/dev/null | sort -V | tail -n 1)
BUILD    ?= build-cuda
CMAKEOPT += -DHASHLAB_CUDA=ON -DCMAKE_CUDA_COMPILER=$(NVCC)
endif
BUILD    ?= build

.PHONY: all deps configure build run test test-kernels bench bench-agreement sanitize clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@if [ "$(CUDA)" = 1 ] && [ -z "$(NVCC)" ]; then echo "CUDA=1 needs nvcc (the CUDA Toolkit); none found" >&2; exit 1; fi
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) $(CMAKEOPT) > $(BUILD).configure.log 2>&1 || \
	  { cat $(BUILD).configure.log; exit 1; }

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: the default suite on Fashion-MNIST (Debian package, no download); resumable, report in
# runs/quick/report/.
run: build
	$(BUILD)/hashlab run suites/quick.yaml
	@echo "report: runs/quick/report/index.html (one page; also tables.md .tex .json, *.csv, results.csv, methods.bib, figures *.png *.pdf)"

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-kernels: build
	scripts/test-kernels.sh $(BUILD)

bench: build
	@scripts/install-deps.sh --bench
	tests/bench/compare_engine.sh $(BUILD) 2 3
	/usr/bin/python3 tests/bench/retrieval_peers.py --hashlab $(BUILD)/hashlab --threads 2

# hashlab embed against torchvision's forward (alexnet vgg11 vgg16 resnet18 resnet50, 224x224, max rel. error 1e-4):
# docs/embed.md. Skips visibly without python3-torch / python3-torchvision.
bench-agreement: build
	@scripts/install-deps.sh --bench
	/usr/bin/python3 tests/bench/embed_torch.py --hashlab $(BUILD)/hashlab --threads 2

sanitize:
	$(MAKE) test BUILD=build-asan TYPE=RelWithDebInfo CMAKEOPT=-DHASHLAB_SANITIZE=ON

clean:
	rm -rf $(BUILD) $(BUILD).configure.log build-asan build-asan.configure.log build-cuda build-cuda.configure.log
