# ocil: build, test, demo, bench, fuzz. `make help` lists the targets.
GO        ?= go
BIN       ?= bin/ocil
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 60s
# package:FuzzTarget[:slow]. `make test` replays every target's seed corpus (its f.Add
# inputs and testdata/fuzz/<Target>/) as ordinary tests, with no time limit; `make fuzz`
# fuzzes each target for $(FUZZTIME) and keeps the smallest new inputs (a quarter as many
# for a :slow target, whose every run is slow, so that its replay stays quick).
FUZZ_TARGETS := \
	./layout:FuzzParseReference \
	./layout:FuzzDecodeIndex \
	./layout:FuzzDecodeManifest \
	./layout:FuzzCheckJSON \
	./layout:FuzzFastIndex \
	./layout:FuzzFastManifest \
	./layout/validate:FuzzRawMembers \
	./layout:FuzzDigestGrammar \
	./layout:FuzzParseDelta \
	./layout/platform:FuzzParse \
	./layout/platform:FuzzParseList \
	./layout/tarfs:FuzzOpen \
	./layout/tarfs:FuzzSeekIndex:slow \
	./layout/tarfs:FuzzParseSums \
	./cmd/ocil:FuzzValidate:slow

.PHONY: help build test tools vet unit fuzz demo bench clean dist dist-check image image-check

help:
	@echo "make build   build $(BIN)"
	@echo "make test    vet, gofmt check, all tests with -race (the fuzz seed corpora replayed"
	@echo "             as tests, nothing timed), interop suite, reproducible release and image"
	@echo "make demo    build ocil and run it on the layouts bundled in testdata/"
	@echo "make bench   run the benchmarks"
	@echo "make dist    release binaries packaged as a multi-platform OCI layout tarball"
	@echo "make image   ocil's container image (linux/amd64, linux/arm64) as OCI layout tarballs:"
	@echo "             dist/ocil-image-VERSION.tar (ocil only) and ...-VERSION-debug.tar (a busybox shell, for CI);"
	@echo "             make image-source: that busybox's source package, to publish beside it"
	@echo "make gitlab-check  run the GitLab CI example pipeline with gitlab-ci-local"
	@echo "make fuzz    fuzz each target for FUZZTIME (default 60s) and keep new inputs in testdata/fuzz"
	@echo "make cosign-proof  sign an image on a loopback registry with cosign, carry it with"
	@echo "             ocil copy, verify it again (not part of make test: cosign and the"
	@echo "             registry take minutes to build)"

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ocil

test: tools vet unit interop dist-check image-check

# Tools the tests run against, from Debian's packages: skopeo (interop checks), umoci and
# podman (images written by add --image; runc runs the image's containers),
# containerd and ctr (copy --docker tarballs),
# man-db (the man page rendered with man -l), git, rsync and npm (for gitlab-ci-local,
# which runs the GitLab CI example pipeline; it comes from npm, pinned: GITLAB_CI_LOCAL).
# TEST_TOOLS lists command:package pairs.
TEST_TOOLS := skopeo:skopeo umoci:umoci podman:podman runc:runc containerd:containerd man:man-db git:git rsync:rsync npm:npm
GITLAB_CI_LOCAL := gitlab-ci-local@4.70.1
# Clients the referrer tests run (oras attach/discover/pull, regctl artifact list),
# built with go install at pinned versions into $(GOBIN_DIR); the tests look there too.
ORAS_VERSION   ?= v1.3.0
REGCTL_VERSION ?= v0.11.7
# distribution's registry, bound to 127.0.0.1: image-check pushes the image into it.
REGISTRY_VERSION ?= v3.0.0
GOBIN_DIR      := $(shell $(GO) env GOPATH 2>/dev/null | cut -d: -f1)/bin

tools:
	@for t in oras.land/oras/cmd/oras@$(ORAS_VERSION) github.com/regclient/regclient/cmd/regctl@$(REGCTL_VERSION); do \
		b=$${t%@*}; b=$${b##*/}; \
		if [ ! -x "$(GOBIN_DIR)/$$b" ] || ! "$(GOBIN_DIR)/$$b" version 2>/dev/null | grep -q "$${t#*@v}"; then \
			echo "go install $$t"; GOBIN="$(GOBIN_DIR)" $(GO) install $$t || exit 1; \
		fi; \
	done
	@if [ ! -x "$(GOBIN_DIR)/registry" ] || ! "$(GOBIN_DIR)/registry" --version 2>/dev/null | grep -q " $(REGISTRY_VERSION)"; then \
		echo "go install github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION)"; \
		GOBIN="$(GOBIN_DIR)" $(GO) install github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION) || exit 1; \
	fi
	@missing=; for t in $(TEST_TOOLS); do \
		command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing$$missing from Debian's packages"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "needed by the tests:$$missing (Debian/Ubuntu: sudo apt-get install$$missing)"; exit 1; \
		fi; \
	fi
	@command -v gitlab-ci-local >/dev/null 2>&1 || { \
		echo "installing $(GITLAB_CI_LOCAL) from npm"; npm install -g --silent $(GITLAB_CI_LOCAL) >/dev/null; }

# gitlab-check: the GitLab CI template's rules, and its example pipeline run with
# gitlab-ci-local (shell executor). make test runs it too, as part of unit.
.PHONY: gitlab-check
gitlab-check:
	OCIL_REQUIRE_TOOLS=1 $(GO) test -count=1 ./ci/gitlab

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# unit runs every test, the fuzz targets' seed corpora included (go test replays f.Add
# inputs and testdata/fuzz/ without fuzzing): the same cases every run, however busy the
# machine.
unit:
	OCIL_REQUIRE_SKOPEO=1 OCIL_REQUIRE_IMAGE_TOOLS=1 OCIL_REQUIRE_ORAS=1 OCIL_REQUIRE_REGCTL=1 OCIL_REQUIRE_TOOLS=1 $(GO) test -race -count=1 ./...

# fuzz: time-boxed fuzzing, never part of `make test` (how far it gets depends on the
# machine's speed). New inputs the fuzzers found are then kept in testdata/fuzz/.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done
	scripts/fuzz-corpus.sh $(FUZZ_TARGETS)

demo: build
	@./scripts/demo.sh $(BIN)

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
	GO=$(GO) bash bench/run.sh
	GO=$(GO) bash bench/tar.sh
	GO=$(GO) bash bench/peers.sh
	GO=$(GO) bash bench/tags.sh

# bench-quick: the merge benchmarks on small datasets (A 4 x 16 MiB, B 16 x 1 MiB,
# C 256 and 64 x 64 KiB), printed only; BENCHMARKS.md is left as it is.
.PHONY: bench-quick
bench-quick:
	GO=$(GO) BENCH_A_SIZE=16777216 BENCH_B_N=16 BENCH_C_N=256 BENCH_C256_N=64 BENCH_MD= bash bench/run.sh

# dist: static binaries for linux, darwin and windows on amd64 and arm64, packaged by ocil
# itself into dist/ocil-VERSION.tar, byte-reproducible under SOURCE_DATE_EPOCH.
dist:
	GO=$(GO) VERSION=$(VERSION) scripts/dist.sh dist

# dist-check: build the release twice and require identical bytes; a binary pulled back
# out of it is executable and runs.
dist-check:
	GO=$(GO) scripts/dist-check.sh

# image: ocil's container image for linux/amd64 and linux/arm64, built by ocil itself
# (add --image), byte-reproducible under SOURCE_DATE_EPOCH, as two tarballs of one tag
# each: dist/ocil-image-VERSION.tar, tag VERSION (ocil only), and
# dist/ocil-image-VERSION-debug.tar, tag VERSION-debug (ocil and a static busybox shell, for
# GitLab's Docker executor). Debian's busybox-static .debs, pinned by
# version and SHA-256 in scripts/busybox.sh, are downloaded once into $(DEB_CACHE)
# (make clean keeps it; with it filled, make image needs no network). Push it with
#   skopeo copy --all oci-archive:dist/ocil-image-VERSION.tar docker://REGISTRY/ocil:VERSION
#   skopeo copy --all oci-archive:dist/ocil-image-VERSION-debug.tar docker://REGISTRY/ocil:VERSION-debug
DEB_CACHE ?= .cache/deb
# What scripts/image.sh needs beyond Go, as command:package: curl fetches the .debs,
# dpkg-deb unpacks them, readelf checks the busybox is static.
IMAGE_TOOLS := curl:curl dpkg-deb:dpkg readelf:binutils
.PHONY: image-tools busybox-debs
image-tools:
	@missing=; for t in $(IMAGE_TOOLS); do \
		command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing$$missing from Debian's packages"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "needed by make image:$$missing (Debian/Ubuntu: sudo apt-get install$$missing)"; exit 1; \
		fi; \
	fi

# busybox-debs: the pinned busybox-static .debs into $(DEB_CACHE), checked.
busybox-debs: image-tools
	BUSYBOX_CACHE=$(DEB_CACHE) scripts/busybox.sh --fetch

image: busybox-debs
	GO=$(GO) VERSION=$(VERSION) BUSYBOX_CACHE=$(DEB_CACHE) scripts/image.sh dist

# image-source: the complete source of the busybox in VERSION-debug (GPL-2.0), Debian's
# source package as pinned in scripts/busybox.sh, into dist/busybox-source/, to publish
# beside the image.
.PHONY: image-source
image-source: image-tools
	BUSYBOX_CACHE=$(DEB_CACHE) scripts/busybox.sh --source dist/busybox-source

# image-check: build the image twice and require identical bytes; skopeo copies both tags,
# umoci unpacks every platform (VERSION holds ocil alone; VERSION-debug's sh runs its
# ocil), podman runs them, a job runs in VERSION-debug as GitLab's Docker executor runs
# it, and the example pipeline passes there under gitlab-ci-local with podman
# (scripts/gitlab-docker-check.sh).
image-check: busybox-debs
	GO=$(GO) BUSYBOX_CACHE=$(DEB_CACHE) scripts/image-check.sh

clean:
	rm -rf bin dist demo-out

# interop: the interoperability suite (its own module in interop/): layouts and tarballs
# written by ocil, read back with go-containerregistry, oras-go, regclient and skopeo.
.PHONY: interop
interop:
	cd interop && $(GO) vet ./... && OCIL_REQUIRE_SKOPEO=1 OCIL_REQUIRE_ORAS=1 OCIL_REQUIRE_REGCTL=1 $(GO) test -count=1 ./...

# cosign-proof: a cosign signature survives ocil copy and still verifies, on a registry
# bound to 127.0.0.1 (scripts/cosign-proof.sh). Not part of `make test`: cosign and
# distribution's registry take several minutes to build with go install.
COSIGN_VERSION   ?= v3.1.3
.PHONY: cosign-proof
cosign-proof: build tools
	@command -v curl >/dev/null || { echo "cosign-proof needs curl"; exit 1; }
	@[ -x "$(GOBIN_DIR)/cosign" ] || { echo "go install cosign@$(COSIGN_VERSION)"; GOBIN="$(GOBIN_DIR)" $(GO) install github.com/sigstore/cosign/v3/cmd/cosign@$(COSIGN_VERSION); }
	@[ -x "$(GOBIN_DIR)/registry" ] || { echo "go install registry@$(REGISTRY_VERSION)"; GOBIN="$(GOBIN_DIR)" $(GO) install github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION); }
	OCIL=$(BIN) scripts/cosign-proof.sh
