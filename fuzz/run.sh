#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time: FUZZ_SECONDS each (default 60).
# Exits non-zero if any target finds a crash, a panic, a leak, a timeout or an
# out-of-memory; the input that did it is left in fuzz/artifacts/<target>/.
#
#   FUZZ_SECONDS=15 bash fuzz/run.sh                  # every target
#   FUZZ_SECONDS=300 bash fuzz/run.sh round_trip      # some targets
#
# cargo-fuzz passes -Zsanitizer=address and other unstable flags to rustc. On a stable
# toolchain RUSTC_BOOTSTRAP=1 lets it do so (see docs/fuzzing.md); on nightly it is harmless.
# Each target's corpus grows in fuzz/corpus/<target>/ (not committed); the checked-in
# seeds in fuzz/seeds/<target>/ are read too but never written.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build

failed=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    log="fuzz/corpus/$target.log"
    printf '\n== fuzz %s for %ss\n' "$target" "$seconds"
    # -timeout: an input that takes 10 s is a hang, reported like a crash.
    if cargo fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
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
