# Short names for kwire's common commands (https://github.com/casey/just).

# Run the demo: a throwaway local Kafka broker and the GitHub webhook examples.
demo:
    cargo run -p kwire-cli -- demo

# Every test, against real Kafka brokers started by the testkit.
test:
    cargo test --workspace

# What CI runs.
ci:
    bash .ci/run

# Codec benchmarks, kwire against the kafka-protocol crate (criterion, about three minutes).
# A separate package outside the workspace; see docs/benchmarks.md.
bench:
    cd benches && cargo bench

lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Fuzz every codec decoder for FUZZ_SECONDS each (default 60); needs cargo-fuzz.
# See docs/fuzzing.md. Example: FUZZ_SECONDS=300 just fuzz
fuzz:
    bash fuzz/run.sh
