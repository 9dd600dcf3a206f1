#!/usr/bin/env bash
# Per-message decode/encode times of Erlang/OTP megaco and of iq-codec over the same corpus.
#
#   iq-codec/benches/megaco_compare.sh [-n N] [--quick] [FILE...]
#
#   -n N     megaco iterations over the corpus (default 50)
#   --quick  shorter criterion runs (1 s warm-up, 3 s measurement instead of 3 s / 5 s)
#   -r R     rounds (default 1): megaco then iq-codec, R times; prints each round's table and
#            the median and range of the per-round ratios
#   --flex   megaco decodes with its flex scanner (C port driver) instead of its Erlang
#            scanner; the Erlang scanner is the default because it was the faster here
#   FILE...  messages to time (default: iq-codec/tests/corpus/*.txt)
#
# (a) `escript interop/peers/megaco/megaco_oracle.escript time N FILE...` prints megaco's mean
#     microseconds per message; files megaco cannot decode or re-decode are skipped by it;
# (b) our side runs on exactly the files megaco timed: criterion bench `codec` (group `corpus`)
#     with IQ_BENCH_FILES listing them; per-message time = criterion's mean per iteration
#     (target/criterion/corpus/<op>/new/estimates.json) / the iteration's message count
#     (benchmark.json throughput).
# Then prints a table per round: per-message times and megaco/ours for each operation.
#
# Operations (both sides): original decode (the file bytes), pretty decode (decode of the
# implementation's own pretty encoding), pretty encode (of the decoded message), compact decode,
# compact encode.
set -euo pipefail

N=50
QUICK=()
ROUNDS=1
TIME_OP=time
FILES=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n) N="$2"; shift 2 ;;
        --quick) QUICK=(--warm-up-time 1 --measurement-time 3); shift ;;
        -r) ROUNDS="$2"; shift 2 ;;
        --flex) TIME_OP=time-flex; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) FILES+=("$1"); shift ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
if [ ${#FILES[@]} -eq 0 ]; then
    FILES=(iq-codec/tests/corpus/*.txt)
fi
ORACLE=interop/peers/megaco/megaco_oracle.escript
command -v escript >/dev/null || { echo "escript not found (install erlang-base + erlang-megaco)" >&2; exit 2; }
[ -f "$ORACLE" ] || { echo "$ORACLE not found" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# One round: megaco's timing, then ours on the files megaco timed. Rounds alternate the two
# sides, so a change in the machine's speed during the run (a virtual machine's speed can drift
# by 2x within minutes) shows as a spread of the per-round ratios instead of skewing one side.
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
ARGS=()
for r in $(seq 1 "$ROUNDS"); do
    echo "== round $r/$ROUNDS: megaco: escript $ORACLE $TIME_OP $N <${#FILES[@]} files>" >&2
    escript "$ORACLE" "$TIME_OP" "$N" "${FILES[@]}" >"$TMP/megaco.$r.out" 2>"$TMP/megaco.err" || {
        cat "$TMP/megaco.err" >&2
        echo "megaco timing failed" >&2
        exit 1
    }
    sed 's/^/  /' "$TMP/megaco.err" >&2
    if [ "$r" = 1 ]; then
        # The files megaco timed: all but its "skip FILE: reason" lines.
        sed -n 's/^skip \(.*\): .*$/\1/p' "$TMP/megaco.err" | sort -u >"$TMP/skipped"
        : >"$TMP/files"
        for f in "${FILES[@]}"; do
            grep -qxF -- "$f" "$TMP/skipped" || printf '%s\n' "$ROOT/$f" >>"$TMP/files"
        done
    fi
    echo "== round $r/$ROUNDS: iq-codec: cargo bench -p iq-codec --bench codec -- corpus/ ($(wc -l <"$TMP/files") files)" >&2
    IQ_BENCH_FILES="$TMP/files" cargo bench -q -p iq-codec --bench codec -- \
        "${QUICK[@]}" '^corpus/' >"$TMP/ours.out" 2>"$TMP/ours.err" || {
        cat "$TMP/ours.err" "$TMP/ours.out" >&2
        echo "cargo bench failed" >&2
        exit 1
    }
    grep -E '^(skip|corpus:)' "$TMP/ours.err" | sed 's/^/  /' >&2 || true
    rm -rf "$TMP/crit.$r"
    cp -r "$TARGET_DIR/criterion/corpus" "$TMP/crit.$r"
    ARGS+=("$TMP/megaco.$r.out" "$TMP/crit.$r")
done

python3 - "${ARGS[@]}" <<'EOF'
import json, os, sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.join(os.getcwd(), "iq-codec", "benches"))
from compare_report import print_rounds

ops = [("original decode", "original_decode"), ("pretty decode", "pretty_decode"),
       ("pretty encode", "pretty_encode"), ("compact decode", "compact_decode"),
       ("compact encode", "compact_encode")]
rounds, header, n_ours = [], "", None
pairs = sys.argv[1:]
for megaco_out, crit in zip(pairs[0::2], pairs[1::2]):
    megaco = {}
    for line in open(megaco_out):
        line = line.strip()
        if line.startswith("#"):
            header = line.lstrip("# ")
            continue
        name, _, us = line.rpartition(" ")
        if name:
            megaco[name] = float(us)
    rows = []
    for label, bench in ops:
        d = os.path.join(crit, bench, "new")
        est = json.load(open(os.path.join(d, "estimates.json")))
        n = json.load(open(os.path.join(d, "benchmark.json")))["throughput"]["Elements"]
        n_ours = n
        ours = est["mean"]["point_estimate"] / n / 1000.0  # ns per corpus pass -> us per message
        m = megaco.get(label)
        rows.append((label, m, ours, (m / ours) if m else None))
    rounds.append(rows)

print(f"megaco: {header}")
print(f"iq-codec: criterion mean, {n_ours} messages per iteration")
print_rounds(rounds, [op[0] for op in ops], 15)
EOF
