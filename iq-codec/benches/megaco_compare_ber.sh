#!/usr/bin/env bash
# Per-message BER (H.248.1 Annex A) decode/encode times of Erlang/OTP megaco and of iq-codec,
# on the same BER messages, measured in one invocation.
#
#   iq-codec/benches/megaco_compare_ber.sh [-n N] [--quick] [FILE...]
#
#   -n N     megaco iterations over the messages (default 300)
#   --quick  shorter criterion runs (1 s warm-up, 3 s measurement instead of 3 s / 5 s)
#   -r R     rounds (default 1): megaco then iq-codec, R times; prints each round's table and
#            the median and range of the per-round ratios
#   FILE...  text messages to use (default: megaco's own examples,
#            <megaco>/examples/meas/time_test.msgs, plus iq-codec/tests/corpus/*.txt)
#
# (a) The messages: megaco encodes each text message to BER (`megaco_ber.escript bermsgs` for
#     its examples, `megaco_ber.escript ber` for the files); those it cannot encode (unknown
#     packages, termination IDs that are not binary-digit levels, IPv6 mIds) are left out.
#     So both sides decode megaco's BER octets.
# (b) `escript interop/peers/megaco/megaco_ber.escript time N BER...` prints megaco's mean
#     microseconds per message for decode and encode (megaco_ber_encoder, EncodingConfig []),
#     and for the ASN.1 layer alone (EncodingConfig [native]: no binary transformer);
# (c) our side runs on exactly the BER files megaco timed: criterion bench `codec` (group `ber`)
#     with IQ_BENCH_BER_FILES listing them; per-message time = criterion's mean per iteration
#     (target/criterion/ber/<op>/new/estimates.json) / the iteration's message count
#     (benchmark.json throughput). If our codec skips a file megaco timed, the script fails.
# Then prints a table per round: per-message times and megaco/ours for each operation:
#   decode       megaco decode_message([], 3, Bin)        | iq-codec decode_message (BER -> model)
#   encode       megaco encode_message([], 3, Rec)        | iq-codec encode_message (model -> BER)
#   asn decode   megaco decode_message([native], 3, Bin)  | iq-codec decode_ber (BER -> asn types)
#   asn encode   megaco encode_message([native], 3, Rec)  | iq-codec encode_ber (asn types -> BER)
set -euo pipefail

N=300
QUICK=()
ROUNDS=1
FILES=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n) N="$2"; shift 2 ;;
        --quick) QUICK=(--warm-up-time 1 --measurement-time 3); shift ;;
        -r) ROUNDS="$2"; shift 2 ;;
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
        *) FILES+=("$1"); shift ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
SCRIPT=interop/peers/megaco/megaco_ber.escript
command -v escript >/dev/null || { echo "escript not found (install erlang-base + erlang-megaco)" >&2; exit 2; }
[ -f "$SCRIPT" ] || { echo "$SCRIPT not found" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/ber/ex" "$TMP/ber/files"

if [ ${#FILES[@]} -eq 0 ]; then
    FILES=(iq-codec/tests/corpus/*.txt)
    MEGACO_DIR="$(erl -noshell -eval 'io:format("~s", [code:lib_dir(megaco)]), halt().' 2>/dev/null || true)"
    MSGS="$MEGACO_DIR/examples/meas/time_test.msgs"
    if [ -f "$MSGS" ]; then
        echo "== megaco BER of its examples: escript $SCRIPT bermsgs <tmp> $MSGS" >&2
        escript "$SCRIPT" bermsgs "$TMP/ber/ex" "$MSGS" >"$TMP/ex.out" || true
        echo "  $(grep -c '^OK ' "$TMP/ex.out" || true) encoded, $(grep -c '^ERR ' "$TMP/ex.out" || true) not" >&2
    else
        echo "  megaco examples not found ($MSGS): corpus only" >&2
    fi
fi
echo "== megaco BER of ${#FILES[@]} files: escript $SCRIPT ber <tmp> FILE..." >&2
escript "$SCRIPT" ber "$TMP/ber/files" "${FILES[@]}" >"$TMP/files.out" || true
echo "  $(grep -c '^OK ' "$TMP/files.out" || true) encoded, $(grep -c '^ERR ' "$TMP/files.out" || true) not (megaco cannot encode them)" >&2

BERS=()
for f in "$TMP"/ber/ex/*.ber "$TMP"/ber/files/*.ber; do
    [ -f "$f" ] && BERS+=("$f")
done
[ ${#BERS[@]} -gt 0 ] || { echo "megaco encoded no message" >&2; exit 1; }

# One round: megaco's timing, then ours on the BER files megaco timed. Rounds alternate the
# two sides, so a change in the machine's speed during the run (a virtual machine's speed can
# drift by 2x within minutes) shows as a spread of the per-round ratios instead of skewing one
# side.
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
ARGS=()
for r in $(seq 1 "$ROUNDS"); do
    echo "== round $r/$ROUNDS: megaco: escript $SCRIPT time $N <${#BERS[@]} BER files>" >&2
    escript "$SCRIPT" time "$N" "${BERS[@]}" >"$TMP/megaco.$r.out" 2>"$TMP/megaco.err" || {
        cat "$TMP/megaco.err" >&2
        echo "megaco timing failed" >&2
        exit 1
    }
    sed 's/^/  /' "$TMP/megaco.err" >&2
    if [ "$r" = 1 ]; then
        # The files megaco timed: all but its "skip FILE: reason" lines.
        sed -n 's/^skip \(.*\): .*$/\1/p' "$TMP/megaco.err" | sort -u >"$TMP/skipped"
        : >"$TMP/list"
        for f in "${BERS[@]}"; do
            grep -qxF -- "$f" "$TMP/skipped" || printf '%s\n' "$f" >>"$TMP/list"
        done
        COUNT=$(wc -l <"$TMP/list")
    fi
    echo "== round $r/$ROUNDS: iq-codec: cargo bench -p iq-codec --bench codec -- ber/ ($COUNT files)" >&2
    IQ_BENCH_BER_FILES="$TMP/list" cargo bench -q -p iq-codec --bench codec -- \
        "${QUICK[@]}" '^ber/' >"$TMP/ours.out" 2>"$TMP/ours.err" || {
        cat "$TMP/ours.err" "$TMP/ours.out" >&2
        echo "cargo bench failed" >&2
        exit 1
    }
    grep -E '^(skip|ber:)' "$TMP/ours.err" | sed 's/^/  /' >&2 || true
    if grep -q '^skip ' "$TMP/ours.err"; then
        echo "iq-codec skipped messages megaco timed: the sets differ, no comparison" >&2
        exit 1
    fi
    rm -rf "$TMP/crit.$r"
    cp -r "$TARGET_DIR/criterion/ber" "$TMP/crit.$r"
    ARGS+=("$TMP/megaco.$r.out" "$TMP/crit.$r")
done

python3 - "$COUNT" "${ARGS[@]}" <<'EOF'
import json, os, sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.join(os.getcwd(), "iq-codec", "benches"))
from compare_report import print_rounds

count = int(sys.argv[1])
pairs = sys.argv[2:]
ops = [("decode", "decode", "decode"), ("encode", "encode", "encode"),
       ("asn decode", "native decode", "asn_decode"), ("asn encode", "native encode", "asn_encode")]
rounds, header = [], ""
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
    for label, mname, bench in ops:
        d = os.path.join(crit, bench, "new")
        est = json.load(open(os.path.join(d, "estimates.json")))
        n = json.load(open(os.path.join(d, "benchmark.json")))["throughput"]["Elements"]
        if n != count:
            sys.exit(f"criterion {bench}: {n} messages per iteration, megaco timed {count}")
        ours = est["mean"]["point_estimate"] / n / 1000.0  # ns per pass -> us per message
        m = megaco.get(mname)
        rows.append((label, m, ours, (m / ours) if m else None))
    rounds.append(rows)

print(f"megaco: {header}")
print(f"iq-codec: criterion mean, {count} messages per iteration (the same BER files)")
print("asn = ASN.1 layer only: megaco EncodingConfig [native] / iq-codec decode_ber, encode_ber")
print_rounds(rounds, [op[0] for op in ops], 10)
EOF
