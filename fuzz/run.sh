#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time: FUZZ_SECONDS each (default 60).
# Exits non-zero if any target finds a crash, a panic, a leak, a timeout or an
# out-of-memory; the input that did it is left in fuzz/artifacts/<target>/.
#
#   FUZZ_SECONDS=15 bash fuzz/run.sh                  # every target
#   FUZZ_SECONDS=300 bash fuzz/run.sh round_trip      # some targets
#   FUZZ_SANITIZER=none bash fuzz/run.sh              # no AddressSanitizer: ~5x faster
#
# With AddressSanitizer (the default) cargo-fuzz passes -Zsanitizer=address to rustc, which
# a stable toolchain accepts only with RUSTC_BOOTSTRAP=1 (see docs/fuzzing.md); on nightly
# it is harmless. The sanitizer is what makes -malloc_limit_mb work: an input of at most a
# few KiB that makes a decoder ask for 64 MiB at once is reported as a finding.
# Each target's corpus grows in fuzz/corpus/<target>/ (not committed); the checked-in
# seeds in fuzz/seeds/<target>/ are read too but never written.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build --sanitizer "$sanitizer"

failed=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    log="fuzz/corpus/$target.log"
    printf '\n== fuzz %s for %ss (sanitizer: %s)\n' "$target" "$seconds" "$sanitizer"
    # -timeout: an input that takes 10 s is a hang, reported like a crash.
    if cargo fuzz run --sanitizer "$sanitizer" "$target" "fuzz/corpus/$target" \
        "fuzz/seeds/$target" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=64 -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true
        grep -E '^stat::number_of_executed_units' "$log" || true
    else
        tail -n 60 "$log"
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    printf '\nfuzzing found a problem in: %s (inputs in fuzz/artifacts/)\n' "${failed[*]}" >&2
    exit 1
fi
printf '\nfuzzing: %s targets ran %ss each without a finding\n' "${#targets[@]}" "$seconds"
