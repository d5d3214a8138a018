# libtscb: one Rust core (core/), the C ABI (ffi/), the local ThingSpace simulator (sim/).
CARGO ?= cargo
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
# The SONAME's version: major.minor before 1.0 (any 0.x release may break the ABI), else major.
SOVERSION := $(if $(filter 0,$(MAJOR)),$(MAJOR).$(MINOR),$(MAJOR))
# Where cargo builds: honour CARGO_TARGET_DIR, as cargo does.
TARGET_DIR ?= $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
# What the static archive needs from the system on Linux (`cargo rustc -p tscb-ffi --crate-type
# staticlib -- --print native-static-libs`); the static C test proves the list links.
NATIVE_STATIC_LIBS = -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

.PHONY: all build demo test fmt-check clippy unit doc bench sim clean lib header install test-c test-python dist test-dist test-dist-arm64 check-abi abi-baseline man docs actionlint publish-check

all: build

build:
	$(CARGO) build --workspace --locked

## The main job: start the simulator in-process, register, list, show rejections, deregister.
demo:
	$(CARGO) run --locked -q -p tscb --example demo

## Everything CI checks.
test: fmt-check clippy unit doc actionlint test-c test-python

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

## The GitHub workflows (.github/workflows/) through actionlint, a prebuilt binary from PyPI.
actionlint:
	bash release/actionlint.sh

## Side-by-side comparisons as ratios: tscb vs a bare reqwest request; the C ABI vs the Rust API.
bench:
	bash bench/run.sh

## The CLI's manual pages, generated from its command line model: $(TARGET_DIR)/man/tscb.1 and
## tscb-COMMAND.1 for each command (read one with `man -l`).
man:
	$(CARGO) run --locked -q -p tscb-cli -- man --out-dir $(TARGET_DIR)/man

## Run the simulator on a fixed port for manual use.
sim:
	$(CARGO) run --locked -q -p tscb-sim -- --listen 127.0.0.1:9000

## The C library, optimised: target/release/libtscb.so and libtscb.a.
lib:
	$(CARGO) build --release --locked -p tscb-ffi

## Regenerate include/tscb.h from ffi/ (a test fails while the committed header is out of date).
header:
	TSCB_UPDATE_HEADER=1 $(CARGO) test --locked -q -p tscb-ffi --test header

## Install the C library, headers (tscb.h, and tscb.hpp for C++), pkg-config file and CMake package
## under $(DESTDIR)$(PREFIX).
install: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(LIBDIR)/cmake/tscb $(DESTDIR)$(INCLUDEDIR)
	install -m 644 include/tscb.h $(DESTDIR)$(INCLUDEDIR)/tscb.h
	install -m 644 include/tscb.hpp $(DESTDIR)$(INCLUDEDIR)/tscb.hpp
	install -m 755 $(TARGET_DIR)/release/libtscb.so $(DESTDIR)$(LIBDIR)/libtscb.so.$(VERSION)
	ln -sf libtscb.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libtscb.so.$(SOVERSION)
	ln -sf libtscb.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libtscb.so
	install -m 644 $(TARGET_DIR)/release/libtscb.a $(DESTDIR)$(LIBDIR)/libtscb.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@NATIVE_STATIC_LIBS@|$(NATIVE_STATIC_LIBS)|' \
		ffi/pkg/tscb.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/tscb.pc
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' -e 's|@SOVERSION@|$(SOVERSION)|g' \
		-e 's|@CMAKE_STATIC_LIBS@|$(subst $(eval) ,;,$(patsubst -l%,%,$(NATIVE_STATIC_LIBS)))|' \
		ffi/pkg/tscbConfig.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/tscb/tscbConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' \
		ffi/pkg/tscbConfigVersion.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/tscb/tscbConfigVersion.cmake

## The C and C++ tests: built against an installed copy through pkg-config, shared and static,
## under ASan/UBSan and valgrind, against the tscb-sim binary.
test-c:
	bash tests/c/run.sh

## The Python package: pip install ./python into target/py-venv, pytest, stubtest, mypy --strict.
test-python:
	bash python/run-tests.sh

## Release artifacts in dist/ (release/dist.sh), each with a .sha256: the Python sdist; abi3 wheels
## and relocatable C tarballs for x86_64 and aarch64 Linux, glibc (manylinux2014: built by zig
## against glibc 2.17) and musl (musllinux_1_2); the CLI archive (a static tscb for x86_64 Linux,
## its manual pages and completions).
dist:
	bash release/dist.sh

## Checks dist/ as users without Rust get it: ELF and wheel audits of every target; the x86_64 wheel
## in fresh venvs of the oldest and newest Python; the C tarballs through pkg-config and CMake
## (x86_64 glibc), zig (musl, static and dynamic) and qemu-user-static (aarch64); the x86_64
## musllinux wheel on a CPython built with musl-gcc; the CLI archive; the sdist from source; then
## the aarch64 artifacts in an arm64 root (test-dist-arm64; as root).
test-dist:
	bash release/test-dist.sh
	bash release/test-arm64.sh

## The aarch64 wheel and C tarballs run in an arm64 Debian root under qemu-user-static (as root;
## the root is cached in target/arm64).
test-dist-arm64:
	bash release/test-arm64.sh

## The C ABI against the committed baseline ffi/pkg/libtscb.abi: fails on an incompatible change
## unless the SONAME changes too. abi-baseline renews the baseline.
check-abi:
	bash release/check-abi.sh

abi-baseline:
	bash release/check-abi.sh --update

## The crates as crates.io will take them: tscb, tscb-sim and tscb-cli packaged and each built
## from its package against the others' packages (cargo publish --dry-run, verified).
## Cargo unpacks each package it verifies into $CARGO_HOME/registry/src/-HASH/ (a registry of the
## workspace's own packages, keyed by the target directory) and reuses an unpacked copy that is
## there already: a second run would build tscb-cli against the tscb of the first. Those copies of
## our own crates are removed first.
publish-check:
	rm -rf "$${CARGO_HOME:-$$HOME/.cargo}"/registry/src/-*/tscb-*
	$(CARGO) publish --workspace --dry-run --locked

clean:
	$(CARGO) clean

## Rewrite the generated part of docs/errors.md from tscb::codes::TABLE (a test fails while it is stale).
docs:
	TSCB_UPDATE_DOCS=1 $(CARGO) test --locked -q -p tscb --test docs -- docs_errors_md the_guides_rust_programs
