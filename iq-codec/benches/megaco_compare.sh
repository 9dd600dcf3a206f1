#!/usr/bin/env bash
# Per-message decode/encode times of Erlang/OTP megaco and of iq-codec over the same corpus.
#
#   iq-codec/benches/megaco_compare.sh [-n N] [--quick] [FILE...]
#
#   -n N     megaco iterations over the corpus (default 50)
#   --quick  shorter criterion runs (1 s warm-up, 3 s measurement instead of 3 s / 5 s)
#   FILE...  messages to time (default: iq-codec/tests/corpus/*.txt)
#
# (a) `escript interop/peers/megaco/megaco_oracle.escript time N FILE...` prints megaco's mean
#     microseconds per message; files megaco cannot decode or re-decode are skipped by it;
# (b) our side runs on exactly the files megaco timed: criterion bench `codec` (group `corpus`)
#     with IQ_BENCH_FILES listing them; per-message time = criterion's mean per iteration
#     (target/criterion/corpus/<op>/new/estimates.json) / the iteration's message count
#     (benchmark.json throughput).
# Then prints one table: per-message times and megaco/ours for each operation.
#
# Operations (both sides): original decode (the file bytes), pretty decode (decode of the
# implementation's own pretty encoding), pretty encode (of the decoded message), compact decode,
# compact encode.
set -euo pipefail

N=50
QUICK=()
FILES=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n) N="$2"; shift 2 ;;
        --quick) QUICK=(--warm-up-time 1 --measurement-time 3); shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
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

echo "== megaco: escript $ORACLE time $N <${#FILES[@]} files>" >&2
escript "$ORACLE" time "$N" "${FILES[@]}" >"$TMP/megaco.out" 2>"$TMP/megaco.err" || {
    cat "$TMP/megaco.err" >&2
    echo "megaco timing failed" >&2
    exit 1
}
sed 's/^/  /' "$TMP/megaco.err" >&2

# The files megaco timed: all but its "skip FILE: reason" lines.
sed -n 's/^skip \(.*\): .*$/\1/p' "$TMP/megaco.err" | sort -u >"$TMP/skipped"
: >"$TMP/files"
for f in "${FILES[@]}"; do
    grep -qxF -- "$f" "$TMP/skipped" || printf '%s\n' "$ROOT/$f" >>"$TMP/files"
done

echo "== iq-codec: cargo bench -p iq-codec --bench codec -- corpus/ ($(wc -l <"$TMP/files") files)" >&2
IQ_BENCH_FILES="$TMP/files" cargo bench -q -p iq-codec --bench codec -- \
    "${QUICK[@]}" '^corpus/' >"$TMP/ours.out" 2>"$TMP/ours.err" || {
    cat "$TMP/ours.err" "$TMP/ours.out" >&2
    echo "cargo bench failed" >&2
    exit 1
}
grep -E '^(skip|corpus:)' "$TMP/ours.err" | sed 's/^/  /' >&2 || true

TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

python3 - "$TMP/megaco.out" "$TARGET_DIR/criterion/corpus" <<'EOF'
import json, os, sys

megaco_out, crit = sys.argv[1], sys.argv[2]
megaco, header = {}, ""
for line in open(megaco_out):
    line = line.strip()
    if line.startswith("#"):
        header = line.lstrip("# ")
        continue
    name, _, us = line.rpartition(" ")
    if name:
        megaco[name] = float(us)

ops = [("original decode", "original_decode"), ("pretty decode", "pretty_decode"),
       ("pretty encode", "pretty_encode"), ("compact decode", "compact_decode"),
       ("compact encode", "compact_encode")]
rows, n_ours = [], None
for label, bench in ops:
    d = os.path.join(crit, bench, "new")
    est = json.load(open(os.path.join(d, "estimates.json")))
    n = json.load(open(os.path.join(d, "benchmark.json")))["throughput"]["Elements"]
    n_ours = n
    ours = est["mean"]["point_estimate"] / n / 1000.0  # ns per corpus pass -> us per message
    m = megaco.get(label)
    rows.append((label, m, ours, (m / ours) if m else None))

print(f"megaco: {header}")
print(f"iq-codec: criterion mean, {n_ours} messages per iteration")
print()
print(f"| {'operation':<15} | {'megaco us/msg':>13} | {'iq-codec us/msg':>15} | {'megaco/ours':>11} |")
print(f"|{'-' * 17}|{'-' * 14}:|{'-' * 16}:|{'-' * 12}:|")
for label, m, ours, ratio in rows:
    ms = f"{m:.2f}" if m is not None else "n/a"
    rs = f"{ratio:.1f}x" if ratio is not None else "n/a"
    print(f"| {label:<15} | {ms:>13} | {ours:>15.3f} | {rs:>11} |")
EOF
