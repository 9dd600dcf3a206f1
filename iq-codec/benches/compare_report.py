"""The report both megaco comparison scripts print (megaco_compare.sh, megaco_compare_ber.sh):
one table per round, then, for more than one round, the median and range of the per-round
ratios. Kept in one place so the two reports cannot drift apart."""
import statistics


def print_rounds(rounds, labels, width):
    """rounds: per round, one (label, megaco us, ours us, ratio) row per operation, in the
    order of labels; width: the operation column's width."""
    rule = "-" * (width + 2)
    for i, rows in enumerate(rounds, 1):
        print()
        if len(rounds) > 1:
            print(f"round {i} of {len(rounds)}")
        print(f"| {'operation':<{width}} | {'megaco us/msg':>13} | {'iq-codec us/msg':>15} | {'megaco/ours':>11} |")
        print(f"|{rule}|{'-' * 14}:|{'-' * 16}:|{'-' * 12}:|")
        for label, m, ours, ratio in rows:
            ms = f"{m:.2f}" if m is not None else "n/a"
            rs = f"{ratio:.1f}x" if ratio is not None else "n/a"
            print(f"| {label:<{width}} | {ms:>13} | {ours:>15.3f} | {rs:>11} |")
    if len(rounds) > 1:
        print()
        print(f"all {len(rounds)} rounds: median (lowest-highest) of the per-round ratios")
        print(f"| {'operation':<{width}} | {'megaco/ours':>11} | {'range':>13} |")
        print(f"|{rule}|{'-' * 12}:|{'-' * 14}:|")
        for k, label in enumerate(labels):
            rs = [rows[k][3] for rows in rounds if rows[k][3] is not None]
            if rs:
                span = f"{min(rs):.1f}-{max(rs):.1f}x"
                print(f"| {label:<{width}} | {statistics.median(rs):>10.1f}x | {span:>13} |")
