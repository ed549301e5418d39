#!/usr/bin/env python3
"""Renders the raw results of bench/fs as markdown tables (helper of bench/fs, not meant to be run alone).

    fs-report.py RAW.tsv LABELS.tsv FACTS.md

RAW.tsv:    backing, repetition, workload, subject, value, daemon CPU seconds ("" for the plain directory)
LABELS.tsv: workload, label, unit, "up" (higher is better) or "down" (lower is better)
FACTS.md:   printed first, verbatim (machine and run facts)

Per backing: a table of medians (one row per workload, one column per subject), the daemons' CPU seconds, and the
ratios of pgbrfs against each peer with the goals. A ratio above 1 always means pgbrfs is better (for times, the
peer's time divided by pgbrfs's).
"""
import csv
import statistics
import sys

SUBJECTS = ["plain", "pgbrfs", "pgbrfs-none", "gocryptfs", "securefs"]
PEERS = ["gocryptfs", "securefs", "pgbrfs-none", "plain"]
# workload -> {peer: minimum ratio}
GOALS = {
    "seq_write": {"gocryptfs": 1.2},
    "seq_read": {"gocryptfs": 1.3, "pgbrfs-none": 0.8},
    "seq_read_ra": {"gocryptfs": 1.3, "pgbrfs-none": 0.8},
    "rand_1": {"gocryptfs": 1.0},
    "rand_4": {"gocryptfs": 1.0},
    "pg_in": {"gocryptfs": 1.0},
    "pg_out": {"gocryptfs": 1.0},
    "create": {"gocryptfs": 1.0},
    "read_files": {"gocryptfs": 1.0},
    "ls_cold": {"gocryptfs": 1.0},
    "ls_warm": {"gocryptfs": 1.0},
}


def fmt(value, unit):
    if value is None:
        return "—"
    if unit == "s":
        return "%.2f" % value if value < 10 else "%.1f" % value
    if value >= 100:
        return "{:,.0f}".format(value)
    return "%.1f" % value


def main():
    raw_path, labels_path, facts_path = sys.argv[1:4]
    labels = []
    with open(labels_path) as f:
        for row in csv.reader(f, delimiter="\t"):
            if row:
                labels.append(row)
    values, cpu, backings = {}, {}, []
    with open(raw_path) as f:
        for row in csv.reader(f, delimiter="\t"):
            if not row:
                continue
            backing, _rep, workload, subject, value, cpu_s = row
            if backing not in backings:
                backings.append(backing)
            if value != "":
                values.setdefault((backing, workload, subject), []).append(float(value))
            if cpu_s != "":
                cpu.setdefault((backing, workload, subject), []).append(float(cpu_s))
    out = []
    with open(facts_path) as f:
        out.append(f.read().rstrip("\n"))
        out.append("")

    def median(table, key):
        v = table.get(key)
        return statistics.median(v) if v else None

    for backing in backings:
        present = [s for s in SUBJECTS if any(k[0] == backing and k[2] == s for k in values)]
        repeated = any(len(v) > 1 for k, v in values.items() if k[0] == backing)
        out.append("### %s backing%s" % (backing, " (median of repetitions, ± half the range)" if repeated else ""))
        out.append("")
        out.append("| workload | unit | " + " | ".join(present) + " |")
        out.append("|---|---|" + "---|" * len(present))
        for workload, label, unit, _direction in labels:
            cells = []
            for s in present:
                v = values.get((backing, workload, s))
                if not v:
                    cells.append("—")
                    continue
                m = statistics.median(v)
                cell = fmt(m, unit)
                if len(v) > 1 and m > 0:
                    cell += " ±%.0f%%" % (100 * (max(v) - min(v)) / 2 / m)
                cells.append(cell)
            out.append("| %s | %s | %s |" % (label, unit, " | ".join(cells)))
        out.append("")
        daemons = [s for s in present if s != "plain"]
        if any(k[0] == backing for k in cpu):
            out.append("Daemon CPU seconds (user + system, from /proc/PID/stat) per workload:")
            out.append("")
            out.append("| workload | " + " | ".join(daemons) + " |")
            out.append("|---|" + "---|" * len(daemons))
            for workload, label, unit, _direction in labels:
                cells = []
                for s in daemons:
                    m = median(cpu, (backing, workload, s))
                    cells.append("—" if m is None else "%.2f" % m)
                out.append("| %s | %s |" % (label, " | ".join(cells)))
            out.append("")
        peers = [p for p in PEERS if p in present]
        if "pgbrfs" in present and peers:
            out.append("pgbrfs against each peer (> 1: pgbrfs better; for times, peer time / pgbrfs time):")
            out.append("")
            out.append("| workload | " + " | ".join("vs " + p for p in peers) + " | goal | met |")
            out.append("|---|" + "---|" * len(peers) + "---|---|")
            for workload, label, unit, direction in labels:
                mine = median(values, (backing, workload, "pgbrfs"))
                ratios = {}
                for p in peers:
                    other = median(values, (backing, workload, p))
                    if mine is None or other is None or mine == 0 or other == 0:
                        ratios[p] = None
                    else:
                        ratios[p] = mine / other if direction == "up" else other / mine
                cells = ["—" if ratios[p] is None else "%.2f×" % ratios[p] for p in peers]
                goals = GOALS.get(workload, {})
                goal_text = ", ".join("≥ %.1f× %s" % (g, p) for p, g in goals.items())
                verdicts = []
                for p, g in goals.items():
                    r = ratios.get(p)
                    verdicts.append("?" if r is None else ("yes" if r >= g else "**no**"))
                out.append("| %s | %s | %s | %s |" % (label, " | ".join(cells), goal_text or "—",
                                                   " / ".join(verdicts) or "—"))
            out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
