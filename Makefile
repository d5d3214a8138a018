# libtscb: one Rust core (core/), the local ThingSpace simulator (sim/).
CARGO ?= cargo

.PHONY: all build demo test fmt-check clippy unit doc bench sim clean

all: build

build:
	$(CARGO) build --workspace --locked

## The main job: start the simulator in-process, register, list, show rejections, deregister.
demo:
	$(CARGO) run --locked -q -p tscb --example demo

## Everything CI checks.
test: fmt-check clippy unit doc

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

## tscb against a bare reqwest request, side by side, as a ratio.
bench:
	$(CARGO) bench --locked -p tscb --bench register

## Run the simulator on a fixed port for manual use.
sim:
	$(CARGO) run --locked -q -p tscb-sim -- --listen 127.0.0.1:9000

clean:
	$(CARGO) clean
