#!/usr/bin/python3
"""Aggregate the bench boots: raw guest output -> rows -> medians and spread.

Reads each boot's raw results (framed by bench/guest-bench.sh) and boot.env
from the bench state directory, and writes into OUT:
  results.csv, results.json  one row per cell and rep, with the run's metadata
  summary.md                 per device x fs x engine x rw: QD vs baseline,
                             patched, raw medians, ratios, spread, per-I/O counts
  iops-DEV-RW.png            IOPS vs QD, fs x engine, baseline/patched/raw lines
  ctxsw-per-io.png           context switches per I/O vs QD (headline job)
The mixed job (one io_uring ring, overwrites and writes into unwritten
space) adds its overwrites' completion latency, baseline vs patched.
Usage: aggregate.py --out DIR [--meta K=V ...] [--series FILE]
                    --state DIR UNIT...   (UNIT: repN-KERNEL-DEV, one device a
                                           boot; repN-KERNEL: all in one boot)
"""
import argparse
import csv
import json
import os
import re
import statistics
import sys

USER_HZ = 100  # /proc/stat ticks
KERNELS = ("baseline", "patched")
FS_TARGETS = ("ext4", "xfs")
HEADLINE = "randwrite"
RW_ORDER = ("randwrite", "randwrite-unwritten", "append", "mixed", "randread", "randwrite-dsync")
# The jobs whose completions need task context: where caller completion pays.
TASK_RWS = ("randwrite-unwritten", "append")
RW_TITLE = {
    "randwrite": "4k random overwrite of a written, preallocated file (headline)",
    "randwrite-unwritten": "4k random write into fallocated (unwritten) space",
    "append": "4k sequential append (extends i_size)",
    "randread": "4k random read",
    "randwrite-dsync": "4k random overwrite, O_DSYNC",
    "mixed": "4k random writes in one ring, half overwrites, half into unwritten space",
}
# The mixed job's latency fields (the guest's dio-bench-lat line, ns).
LAT_FIELDS = ("over_p50_ns", "over_p99_ns", "unw_p50_ns", "unw_p99_ns")
# A cell whose per-rep ratios spread more than this is flagged in summary.md.
SPREAD_LIMIT = 0.05

CSV_FIELDS = [
    "plan", "accel", "rep", "first_booted", "kernel", "release", "dev", "target", "job", "rw",
    "bs", "qd", "engine", "iops", "clat_p50_us", "clat_p99_us", "ios",
    "runtime_ms", "ctxt_per_io", "sys_us_per_io", "wq_dio_per_io", "ctx_src",
    "ctx_task_per_io", "ctx_wq_per_io", "ctx_irq_per_io", "ctx_issuer_per_io",
    "ctx_taken_per_io", "over_ios", "unw_ios", *LAT_FIELDS, "fio", "qemu",
    "qemu_opts", "host_cpu", "boot_devs", "base", "base_sha256", "series_hash",
]


class ParseError(Exception):
    pass


def parse_kv(line):
    """'# tag a=1 b=x' -> {'a': '1', 'b': 'x'}"""
    return dict(w.split("=", 1) for w in line.split()[2:] if "=" in w)


def num(value):
    """A count or latency from the guest, None for '-' or missing."""
    return None if value in (None, "-") else float(value)


def per_io(value, ios):
    v = num(value)
    return None if v is None or not ios else v / ios


def cell_row(head, fio_text, stats):
    """One row from a cell's header, fio JSON text and stats line values."""
    start, end = fio_text.find("{"), fio_text.rfind("}")
    if start < 0:
        raise ParseError("cell %s: no fio JSON" % head.get("job"))
    try:
        fio = json.loads(fio_text[start:end + 1])
    except ValueError as e:
        raise ParseError("cell %s: bad fio JSON: %s" % (head.get("job"), e))
    job = fio["jobs"][0]
    ddir = "read" if head["rw"] == "randread" else "write"
    d = job[ddir]
    ios = job["read"]["total_ios"] + job["write"]["total_ios"]
    pct = d["clat_ns"].get("percentile", {})
    ticks = int(stats["cpu_sys"]) + int(stats["cpu_irq"]) + int(stats["cpu_softirq"])
    # The series' contexts come from their own untimed run (ctx_ios I/Os);
    # records from before that counted them over the timed run.
    ctx_ios = stats.get("ctx_ios", "-")
    ctx_ios = int(ctx_ios) if ctx_ios.isdigit() else ios
    return {
        "dev": head["dev"], "target": head["target"], "job": head["job"],
        "rw": head["rw"], "bs": head["bs"], "qd": int(head["qd"]),
        "engine": head["engine"], "iops": d["iops"],
        "clat_p50_us": pct.get("50.000000", 0) / 1000.0,
        "clat_p99_us": pct.get("99.000000", 0) / 1000.0,
        "ios": ios, "runtime_ms": d["runtime"],
        "ctxt_per_io": per_io(stats["ctxt"], ios),
        "sys_us_per_io": per_io(ticks * 1e6 / USER_HZ, ios),
        "wq_dio_per_io": per_io(stats["wq_dio"], ios),
        "ctx_src": stats["ctx_src"],
        "ctx_task_per_io": per_io(stats["ctx_task"], ctx_ios),
        "ctx_wq_per_io": per_io(stats["ctx_wq"], ctx_ios),
        "ctx_irq_per_io": per_io(stats["ctx_irq"], ctx_ios),
        # Records from before the series' issuer contexts have none.
        "ctx_issuer_per_io": per_io(stats.get("ctx_issuer"), ctx_ios),
        "ctx_taken_per_io": per_io(stats.get("ctx_taken"), ctx_ios),
        "over_ios": num(stats.get("over_ios")), "unw_ios": num(stats.get("unw_ios")),
        **{k: num(stats.get(k)) for k in LAT_FIELDS},
        "fio": fio.get("fio version", ""),
        "fio_error": job.get("error", 0),
        "ctx_separate": "ctx_ios" in stats,
    }


def parse_raw(text):
    """A boot's raw output -> (guest header dict, plan dict, rows, errors)."""
    guest, plan, rows, errors = {}, {}, [], []
    head, body, in_cell, lat = None, [], False, {}
    for line in text.replace("\r", "").split("\n"):
        if line.startswith("# dio-guest "):
            guest = parse_kv(line)
        elif line.startswith("# dio-bench-plan "):
            plan = parse_kv(line)
        elif line.startswith("# dio-bench-cell "):
            head, body, in_cell, lat = parse_kv(line), [], True, {}
        elif line.startswith("# dio-bench-lat ") and in_cell:
            lat = parse_kv(line)
        elif line.startswith("# dio-bench-stats ") and in_cell:
            rows.append(cell_row(head, "\n".join(body), dict(parse_kv(line), **lat)))
        elif line.startswith("# dio-bench-cell-end"):
            in_cell = False
        elif line.startswith("# dio-error "):
            errors.append(line[len("# dio-error "):])
        elif in_cell:
            body.append(line)
    return guest, plan, rows, errors


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    return env


def load_units(state, units, meta):
    """Rows of every boot, tagged with rep, kernel and the run's metadata."""
    rows, errors, walls, first = [], [], [], {}
    for unit in units:
        m = re.match(r"rep(\d+)-(\w+)(?:-([\w-]+))?$", unit)
        if not m:
            raise ParseError("unit %s is not repN-KERNEL[-DEV]" % unit)
        # The units come in boot order: the kernel booted first in a rep.
        first.setdefault((int(m.group(1)), m.group(3)), m.group(2))
        with open(os.path.join(state, unit + ".raw")) as f:
            guest, plan, urows, uerr = parse_raw(f.read())
        env_path = os.path.join(state, unit + ".boot.env")
        env = read_env(env_path) if os.path.exists(env_path) else {}
        walls.append(int(env.get("wall_s", 0)))
        errors += ["%s: %s" % (unit, e) for e in uerr]
        for r in urows:
            r.update(rep=int(m.group(1)), kernel=m.group(2),
                     release=guest.get("release", ""),
                     accel=env.get("accel", meta.get("accel", "")))
            if m.group(3) and r["dev"] != m.group(3):
                raise ParseError("unit %s booted %s but has a %s cell" % (unit, m.group(3), r["dev"]))
            for k in ("plan", "qemu", "base", "base_sha256", "series_hash"):
                r[k] = meta.get(k, "")
            # What ci/boot.sh gave QEMU (TCG-only options included).
            r["qemu_opts"] = env.get("qemu_opts", "")
            r["host_cpu"] = env.get("host_cpu", "any")
            r["boot_devs"] = env.get("boot_devs", "")
            rows.append(r)
    for r in rows:
        r["first_booted"] = first.get((r["rep"], r["dev"]), first.get((r["rep"], None), ""))
    return rows, errors, walls


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    """(min, max) of the non-None values, or None."""
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else None


def rel_spread(xs):
    """(max - min) / median: how far the reps of one cell spread."""
    xs = [x for x in xs if x is not None]
    if not xs or not statistics.median(xs):
        return None
    return (max(xs) - min(xs)) / statistics.median(xs)


def index(rows):
    """(kernel, rep, dev, target, rw, engine, qd) -> row"""
    return {(r["kernel"], r["rep"], r["dev"], r["target"], r["rw"], r["engine"], r["qd"]): r
            for r in rows}


def aggregate(rows):
    """One summary entry per device x fs x rw x engine x QD: medians over
    reps, per-rep ratios (patched/baseline paired by rep, which were booted
    one after the other; fs/raw within the same boot), and their spread."""
    idx = index(rows)
    reps = sorted({r["rep"] for r in rows})
    keys = sorted({(r["dev"], r["target"], r["rw"], r["engine"], r["qd"])
                   for r in rows if r["target"] in FS_TARGETS},
                  key=lambda k: (k[0], k[1], RW_ORDER.index(k[2]) if k[2] in RW_ORDER else 99,
                                 k[3], k[4]))
    out = []
    for dev, fs, rw, engine, qd in keys:
        def get(kernel, rep, target=fs):
            return idx.get((kernel, rep, dev, target, rw, engine, qd))

        def vals(kernel, field, target=fs):
            return [get(kernel, rep, target)[field] for rep in reps if get(kernel, rep, target)]

        def rep_ratios(num, den):
            out = []
            for rep in reps:
                a, b = num(rep), den(rep)
                if a and b and b["iops"]:
                    out.append((rep, a["first_booted"], a["iops"] / b["iops"]))
            return out

        def ratios(num, den):
            return [x for _, _, x in rep_ratios(num, den)]

        e = {"dev": dev, "fs": fs, "rw": rw, "engine": engine, "qd": qd,
             "job": "%s_4k_qd%d_%s" % (rw, qd, engine)}
        for k in KERNELS:
            iops = vals(k, "iops")
            e[k] = {
                "reps": len(iops), "iops": median(iops), "iops_range": spread(iops),
                "iops_spread": rel_spread(iops),
                "clat_p50_us": median(vals(k, "clat_p50_us")),
                "clat_p99_us": median(vals(k, "clat_p99_us")),
                "wq_dio_per_io": median(vals(k, "wq_dio_per_io")),
                "ctxt_per_io": median(vals(k, "ctxt_per_io")),
                "sys_us_per_io": median(vals(k, "sys_us_per_io")),
                "ctx_src": (vals(k, "ctx_src") or ["none"])[0],
                "ctx_task_per_io": median(vals(k, "ctx_task_per_io")),
                "ctx_wq_per_io": median(vals(k, "ctx_wq_per_io")),
                "ctx_irq_per_io": median(vals(k, "ctx_irq_per_io")),
                "ctx_issuer_per_io": median(vals(k, "ctx_issuer_per_io")),
                "ctx_taken_per_io": median(vals(k, "ctx_taken_per_io")),
            }
            for f in LAT_FIELDS:
                e[k][f] = median(vals(k, f))
            raw_iops = vals(k, "iops", "raw")
            e[k]["raw"] = {
                "iops": median(raw_iops), "iops_range": spread(raw_iops),
                "iops_spread": rel_spread(raw_iops),
                "ctxt_per_io": median(vals(k, "ctxt_per_io", "raw")),
                "sys_us_per_io": median(vals(k, "sys_us_per_io", "raw")),
            }
            rr = ratios(lambda rep: get(k, rep), lambda rep: get(k, rep, "raw"))
            e[k]["fs_over_raw"] = {"median": median(rr), "range": spread(rr)}
            e[k]["wq_dio_per_io_range"] = spread(vals(k, "wq_dio_per_io"))
        pb_reps = rep_ratios(lambda rep: get("patched", rep), lambda rep: get("baseline", rep))
        pb = [x for _, _, x in pb_reps]
        e["patched_over_baseline"] = {"median": median(pb), "range": spread(pb),
                                      "per_rep": pb_reps,
                                      "spread": (max(pb) - min(pb)) if pb else None,
                                      "all_below_1": bool(pb) and max(pb) < 1.0}
        # The mixed ring: the overwrites' p99 latency, patched over baseline,
        # paired by rep like the IOPS.
        p99 = [a["over_p99_ns"] / b["over_p99_ns"] for a, b in
               ((get("patched", rep), get("baseline", rep)) for rep in reps)
               if a and b and a.get("over_p99_ns") and b.get("over_p99_ns")]
        e["over_p99_patched_over_baseline"] = {"median": median(p99), "range": spread(p99)}
        # The same comparison with each boot's fs IOPS taken relative to the
        # raw device in that boot: what differs between two boots but not
        # between targets (host load, the kernel image's layout) cancels.
        bfr, pfr = e["baseline"]["fs_over_raw"]["median"], e["patched"]["fs_over_raw"]["median"]
        e["patched_over_baseline_raw_normalised"] = pfr / bfr if bfr and pfr else None
        out.append(e)
    return out


def part1_label(summary):
    """What the patched column is, from the measurement itself. Part 1 of the
    series lets a plain overwrite complete in irq context; until it lands the
    patched kernel completes none there (its iomap_dio_complete event says
    so) and, without that event, runs as many completions on the workqueue as
    baseline does. Then the patched column is the groundwork only."""
    head = [e for e in summary if e["rw"] == HEADLINE]
    irq = [e["patched"]["ctx_irq_per_io"] for e in head
           if e["patched"]["ctx_irq_per_io"] is not None]
    wq = [(e["baseline"]["wq_dio_per_io"], e["patched"]["wq_dio_per_io"]) for e in head
          if e["baseline"]["wq_dio_per_io"] is not None
          and e["patched"]["wq_dio_per_io"] is not None]
    if not irq and not wq:
        return "no headline cells measured on both kernels"
    wq_text = "dio workqueue completions per I/O: baseline %.2f-%.2f, patched %.2f-%.2f" % (
        min(b for b, _ in wq), max(b for b, _ in wq),
        min(p for _, p in wq), max(p for _, p in wq)) if wq else ""
    if irq:
        if max(irq) < 0.01:
            return ("series part 1 not landed: patched = groundwork only (no headline "
                    "overwrite completed in irq context on the patched kernel; %s)" % wq_text)
        return ("series part 1 landed: the patched kernel completes %.2f-%.2f headline "
                "overwrites per I/O in irq context (%s)" % (min(irq), max(irq), wq_text))
    if all(p >= 0.9 * b for b, p in wq):
        return ("series part 1 not landed: patched = groundwork only (as many dio workqueue "
                "completions as baseline; %s)" % wq_text)
    return "series part 1 landed: fewer dio workqueue completions on patched (%s)" % wq_text


def fmt_counts(pairs):
    return ", ".join("%s %.2f-%.2f" % (name, min(xs), max(xs)) for name, xs in pairs if xs)


def mainline_label(summary):
    """What the two mainline kernels did, measured. Both complete pure
    overwrites in irq context (upstream since 6.19); the series hands the
    completions that need task context (unwritten conversion, size update)
    to the issuing task, so the difference shows in the unwritten and
    append jobs: fewer dio workqueue completions, completions by the
    issuer, and those taken back by a waiter."""
    def values(rws, kernel, field, engine=None):
        return [e[kernel][field] for e in summary if e["rw"] in rws
                and (engine is None or e["engine"] == engine) and e[kernel][field] is not None]
    head = fmt_counts([("baseline", values((HEADLINE,), "baseline", "wq_dio_per_io")),
                       ("patched", values((HEADLINE,), "patched", "wq_dio_per_io"))])
    task = fmt_counts([("baseline", values(TASK_RWS, "baseline", "wq_dio_per_io", "io_uring")),
                       ("patched", values(TASK_RWS, "patched", "wq_dio_per_io", "io_uring"))])
    ctx = fmt_counts([("issuer", values(TASK_RWS, "patched", "ctx_issuer_per_io", "io_uring")),
                      ("taken back", values(TASK_RWS, "patched", "ctx_taken_per_io", "io_uring"))])
    if not head and not task:
        return "no cells measured on both kernels"
    return ("mainline: headline overwrites on the dio workqueue per I/O: %s; io_uring writes "
            "into unwritten space and appends on the dio workqueue per I/O: %s; the patched "
            "kernel's completions of those per I/O: %s" % (
                head or "not measured", task or "not measured", ctx or "not counted"))


def label(summary, stack):
    return mainline_label(summary) if stack == "mainline" else part1_label(summary)


# ---- output -----------------------------------------------------------------

def fmt(x, digits=2):
    if x is None:
        return "-"
    if isinstance(x, float) and abs(x) >= 100:
        return "%.0f" % x
    return "%.*f" % (digits, x)


def fmt_range(r, digits=2):
    return "-" if not r else "%s-%s" % (fmt(r[0], digits), fmt(r[1], digits))


def fmt_pct(x):
    return "-" if x is None else "%.1f%%" % (100 * x)


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in sorted(rows, key=lambda r: (r["rep"], r["kernel"], r["dev"], r["target"],
                                             r["rw"], r["engine"], r["qd"])):
            w.writerow({k: ("" if r.get(k) is None else
                            ("%.6g" % r[k] if isinstance(r[k], float) else r[k]))
                        for k in CSV_FIELDS})


def table(entries):
    """The summary table of one device x fs x engine x rw."""
    lines = [
        "| QD | baseline IOPS | patched IOPS | raw IOPS | patched/baseline (min-max) "
        "| patched/raw (min-max) | baseline/raw (min-max) | IOPS spread b / p / raw "
        "| dio wq compl./IO b / p | patched compl./IO task / wq / irq / issuer / taken back "
        "| ctx sw/IO b / p / raw | sys us/IO b / p / raw | clat p50 / p99 us b | clat p50 / p99 us p |",
        "|---:|---:|---:|---:|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        b, p = e["baseline"], e["patched"]
        pb, pr, br = e["patched_over_baseline"], p["fs_over_raw"], b["fs_over_raw"]
        ctx = "-" if p["ctx_src"] == "none" else " / ".join(
            fmt(p[k]) for k in ("ctx_task_per_io", "ctx_wq_per_io", "ctx_irq_per_io",
                                "ctx_issuer_per_io", "ctx_taken_per_io"))
        lines.append("| %d | %s | %s | %s | %s (%s) | %s (%s) | %s (%s) | %s / %s / %s "
                     "| %s / %s | %s | %s / %s / %s | %s / %s / %s | %s / %s | %s / %s |" % (
                         e["qd"], fmt(b["iops"]), fmt(p["iops"]), fmt(p["raw"]["iops"]),
                         fmt(pb["median"], 3), fmt_range(pb["range"], 3),
                         fmt(pr["median"], 3), fmt_range(pr["range"], 3),
                         fmt(br["median"], 3), fmt_range(br["range"], 3),
                         fmt_pct(b["iops_spread"]), fmt_pct(p["iops_spread"]),
                         fmt_pct(p["raw"]["iops_spread"]),
                         fmt(b["wq_dio_per_io"]), fmt(p["wq_dio_per_io"]), ctx,
                         fmt(b["ctxt_per_io"]), fmt(p["ctxt_per_io"]), fmt(p["raw"]["ctxt_per_io"]),
                         fmt(b["sys_us_per_io"], 1), fmt(p["sys_us_per_io"], 1),
                         fmt(p["raw"]["sys_us_per_io"], 1),
                         fmt(b["clat_p50_us"], 0), fmt(b["clat_p99_us"], 0),
                         fmt(p["clat_p50_us"], 0), fmt(p["clat_p99_us"], 0)))
    return lines


def groups(summary):
    """Summary entries grouped by (dev, fs, engine, rw), QD ascending."""
    g = {}
    for e in summary:
        g.setdefault((e["dev"], e["fs"], e["rw"], e["engine"]), []).append(e)
    return g


def series_patches(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split("#")[0].split()[0] for l in f if l.split("#")[0].strip()]


def write_summary(path, meta, rows, summary, errors, walls, plots):
    releases = sorted({(r["kernel"], r["release"]) for r in rows})
    fios = sorted({r["fio"] for r in rows})
    # Per device: the QEMU options and host CPU pin its boots had.
    qemu_by_dev = {}
    for r in rows:
        qemu_by_dev.setdefault(r["dev"], set()).add(
            (r["qemu_opts"] or "none",
             "" if r["host_cpu"] == "any" else "pinned to host CPU %s" % r["host_cpu"]))
    qemu_text = "; ".join(
        "%s: %s" % (dev, " / ".join(", ".join(x for x in o if x) for o in sorted(opts)))
        for dev, opts in sorted(qemu_by_dev.items()))
    one_dev = all(r["boot_devs"] == r["dev"] for r in rows)
    separate = any(r.get("ctx_separate") for r in rows)
    accel = meta.get("accel", "")
    L = ["# Async DIO completion bench: %s, %s" % (meta.get("date", ""), accel.upper()), ""]
    L.append("**%s**" % label(summary, meta.get("stack")))
    L.append("")
    if accel == "tcg":
        L += ["Accelerator: TCG (QEMU's emulator, no KVM). Absolute IOPS here are the",
              "speed of an emulated CPU on a shared 2-core host, not performance: read",
              "only the ratios (baseline and patched booted alternately in one run; fs vs",
              "raw within the same boot) and the per-I/O counts.", ""]
    else:
        L += ["Accelerator: %s." % accel.upper(), ""]
    L += ["- Kernels: %s" % ", ".join("%s `%s`" % kr for kr in releases),
          "- Base: %s, sha256 `%s`" % (meta.get("base", ""), meta.get("base_sha256", "")),
          "- Series: %s patches, hash `%s`: %s" % (
              meta.get("series_patches", ""), meta.get("series_hash", ""),
              ", ".join(p[:4] for p in series_patches(meta.get("series_file")))),
          "- QEMU %s (%s); options and host CPU pin per device (NVMe under TCG with -icount "
          "is pinned: the doorbell fix, README): %s; fio: %s" % (
              meta.get("qemu", ""), accel, qemu_text, ", ".join(fios)),
          "- Plan `%s`: %s reps per kernel, interleaved (%s); "
          "%ss a cell after a %ss warm-up per target; one vCPU; %d boots, %s of boot wall time" % (
              meta.get("plan", ""), meta.get("reps", ""),
              "one device a boot: rep 1 baseline then patched on each device in turn, rep 2 "
              "patched first, ..."
              if one_dev else "every device in each boot: rep 1 baseline, rep 1 patched, ...",
              meta.get("runtime_s", ""),
              meta.get("warmup_s", ""), len(walls), "%dm%02ds" % divmod(sum(walls), 60)),
          "- Devices: %s" % meta.get("devs", ""),
          "- Targets on the same disk in every boot, three partitions: ext4, XFS and the raw "
          "block device (raw async O_DIRECT completes in irq: the limit); each job runs on the "
          "three back to back",
          "- Counts per I/O are deltas over each cell: dio wq compl. = "
          "workqueue_execute_start of iomap_dio_complete_work (hist trigger, both kernels); "
          "patched compl. task/wq/irq = iomap:iomap_dio_complete by ctx (the series' event; "
          "`-` where the kernel has none); ctx sw = /proc/stat ctxt; sys = /proc/stat "
          "system+irq+softirq ticks. " + (
              "The series' event is counted in an untimed 1 s run of the same job after each "
              "timed one, so that both kernels' timed runs carry the same instrumentation "
              "(armed during the timed run it cost the patched kernel 9-15%, even on the raw "
              "device). " if separate else
              "The patched kernel's timed runs also carry the hist trigger on its own event: "
              "a cost on the patched side only (9-15% measured later, even on the raw "
              "device; records from 2026-11-25 on count it in a separate run). ") +
          "A write completion that is not on the workqueue ran in the issuing task: the emulated "
          "disk completed the bio before iomap_dio_rw() dropped its own reference (the patched "
          "kernel's ctx counts show it as task)",
          ""]
    pbs = [e["patched_over_baseline"]["spread"] for e in summary
           if e["patched_over_baseline"]["spread"] is not None]
    over = [e for e in summary if (e["patched_over_baseline"]["spread"] or 0) > SPREAD_LIMIT]
    iop = [x for e in summary for x in (e["baseline"]["iops_spread"], e["patched"]["iops_spread"])
           if x is not None]
    L += ["## Spread", ""]
    if pbs:
        L.append("patched/baseline per-rep ratio: max-min over reps is at most %.3f "
                 "(median %.3f); %d of %d cells spread more than %.0f%%%s." % (
                     max(pbs), statistics.median(pbs), len(over), len(summary),
                     100 * SPREAD_LIMIT,
                     (": " + ", ".join("%s/%s %s" % (e["dev"], e["fs"], e["job"]) for e in over[:12]))
                     if over else ""))
    if iop:
        L.append("IOPS of one kernel over its reps: (max-min)/median at most %.1f%%, median %.1f%%." % (
            100 * max(iop), 100 * statistics.median(iop)))
    by_first = {}
    for e in summary:
        for _, first, x in e["patched_over_baseline"]["per_rep"]:
            by_first.setdefault(first, []).append(x)
    if len(by_first) > 1:
        L.append("Boot order: the per-rep patched/baseline ratio over every cell, median (cells x "
                 "reps) %s." % "; ".join(
                     "%s booted first %.3f (%d)" % (k, statistics.median(v), len(v))
                     for k, v in sorted(by_first.items())))
    raw = [x for e in summary for x in (e["baseline"]["raw"]["iops_spread"],
                                         e["patched"]["raw"]["iops_spread"]) if x is not None]
    wqr = [r for e in summary for k in KERNELS for r in [e[k]["wq_dio_per_io_range"]] if r]
    if raw and iop and wqr:
        L.append("The raw device's IOPS over reps spread %.1f%% (median) against %.1f%% on the "
                 "filesystems; on the filesystems the share of write completions run on the dio "
                 "workqueue (the rest ran in the issuing task) changes between reps of the same "
                 "cell on the same kernel by up to %.2f per I/O (%.2f-%.2f overall), and IOPS "
                 "follow it: which path a completion takes depends on when the emulated disk "
                 "completes the bio in host real time." % (
                     100 * statistics.median(raw), 100 * statistics.median(iop),
                     max(hi - lo for lo, hi in wqr), min(lo for lo, _ in wqr),
                     max(hi for _, hi in wqr)))
    L.append("")
    if errors:
        L += ["## Guest errors", ""] + ["- %s" % e for e in errors] + [""]
    slower = [e for e in summary if e["patched_over_baseline"].get("all_below_1")]
    L += ["## Cells where every rep of the patched kernel is slower", ""]
    if slower:
        L += ["Each is a regression until explained; the per-I/O counts beside it are the "
              "first place to look.", "",
              "| device | fs | job | patched/baseline (min-max) | per rep (kernel booted first) "
              "| dio wq compl./IO b / p | ctx sw/IO b / p | sys us/IO b / p |",
              "|---|---|---|---|---|---|---|---|"]
        for e in slower:
            b, p = e["baseline"], e["patched"]
            L.append("| %s | %s | %s | %s (%s) | %s | %s / %s | %s / %s | %s / %s |" % (
                e["dev"], e["fs"], e["job"], fmt(e["patched_over_baseline"]["median"], 3),
                fmt_range(e["patched_over_baseline"]["range"], 3),
                ", ".join("%d%s %.3f" % (rep, first[:1], x)
                          for rep, first, x in e["patched_over_baseline"]["per_rep"]),
                fmt(b["wq_dio_per_io"]), fmt(p["wq_dio_per_io"]), fmt(b["ctxt_per_io"]),
                fmt(p["ctxt_per_io"]), fmt(b["sys_us_per_io"], 1), fmt(p["sys_us_per_io"], 1)))
    else:
        L.append("None.")
    L.append("")
    mixed = [e for e in summary if e["rw"] == "mixed"]
    if mixed:
        L += ["## Mixed ring: the overwrites' completion latency", "",
              "One io_uring ring, random 4k writes over a file whose first half is written "
              "and second half unwritten: what completions that need task context, run by "
              "the issuer, cost the overwrites beside them in the same ring. Completion "
              "latency (fio clat, us), medians over reps; p99 ratio paired by rep.", "",
              "| device | fs | QD | overwrite p50 b / p | overwrite p99 b / p "
              "| overwrite p99 patched/baseline (min-max) | unwritten p50 b / p "
              "| unwritten p99 b / p | patched compl./IO issuer / taken back / wq |",
              "|---|---|---:|---|---|---|---|---|---|"]
        for e in mixed:
            b, p = e["baseline"], e["patched"]
            us = [fmt(k[f] / 1000.0 if k[f] is not None else None, 0)
                  for f in LAT_FIELDS for k in (b, p)]
            r = e["over_p99_patched_over_baseline"]
            L.append("| %s | %s | %d | %s / %s | %s / %s | %s (%s) | %s / %s | %s / %s | %s / %s / %s |" % (
                e["dev"], e["fs"], e["qd"], us[0], us[1], us[2], us[3], fmt(r["median"], 3),
                fmt_range(r["range"], 3), us[4], us[5], us[6], us[7],
                fmt(p["ctx_issuer_per_io"]), fmt(p["ctx_taken_per_io"]), fmt(p["ctx_wq_per_io"])))
        L.append("")
    L += ["## Cover letter table (%s, and on io_uring the jobs whose completions need "
          "task context)" % RW_TITLE[HEADLINE], "",
          "| device | fs | job | baseline/raw | patched/raw | patched/baseline "
          "| patched/baseline, raw-normalised | dio wq compl./IO b / p | ctx sw/IO b / p |",
          "|---|---|---|---:|---:|---:|---:|---|---|"]
    for e in summary:
        if e["rw"] != HEADLINE and not (e["rw"] in TASK_RWS and e["engine"] == "io_uring"):
            continue
        b, p = e["baseline"], e["patched"]
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s |" % (
            e["dev"], e["fs"], e["job"], fmt(b["fs_over_raw"]["median"], 3),
            fmt(p["fs_over_raw"]["median"], 3), fmt(e["patched_over_baseline"]["median"], 3),
            fmt(e["patched_over_baseline_raw_normalised"], 3),
            fmt(b["wq_dio_per_io"]), fmt(p["wq_dio_per_io"]),
            fmt(b["ctxt_per_io"]), fmt(p["ctxt_per_io"])))
    L.append("")
    for (dev, fs, rw, engine), entries in sorted(
            groups(summary).items(),
            key=lambda kv: (kv[0][0], RW_ORDER.index(kv[0][2]) if kv[0][2] in RW_ORDER else 99,
                            kv[0][1], kv[0][3])):
        L += ["## %s, %s, %s: %s" % (dev, fs, engine, RW_TITLE.get(rw, rw)), ""]
        L += table(entries) + [""]
    L += ["## Plots", ""] + ["![%s](%s)" % (p, p) for p in plots] + [""]
    with open(path, "w") as f:
        f.write("\n".join(L))


def plot(out, summary):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    g = groups(summary)
    devs = sorted({k[0] for k in g})
    rws = [rw for rw in RW_ORDER if any(k[2] == rw for k in g)]
    engines = sorted({k[3] for k in g})
    fss = [fs for fs in FS_TARGETS if any(k[1] == fs for k in g)]
    for dev in devs:
        for rw in rws:
            fig, axes = plt.subplots(len(fss), len(engines), squeeze=False,
                                     figsize=(5.5 * len(engines), 3.8 * len(fss)))
            for i, fs in enumerate(fss):
                for j, engine in enumerate(engines):
                    ax = axes[i][j]
                    es = g.get((dev, fs, rw, engine), [])
                    qds = [e["qd"] for e in es]
                    lines = [("baseline", [e["baseline"] for e in es], "o-"),
                             ("patched", [e["patched"] for e in es], "s--")]
                    if any(e["patched"]["raw"]["iops"] for e in es):
                        lines.append(("raw bdev", [e["patched"]["raw"] for e in es], "^:"))
                    for label, ds, style in lines:
                        y = [d["iops"] for d in ds]
                        lo = [d["iops"] - d["iops_range"][0] if d["iops_range"] else 0 for d in ds]
                        hi = [d["iops_range"][1] - d["iops"] if d["iops_range"] else 0 for d in ds]
                        ax.errorbar(qds, y, yerr=[lo, hi], fmt=style, capsize=3, label=label)
                    ax.set_xscale("log", base=2)
                    ax.set_xticks(qds)
                    ax.set_xticklabels([str(q) for q in qds])
                    ax.set_ylim(bottom=0)
                    ax.set_title("%s %s %s" % (dev, fs, engine))
                    ax.set_xlabel("queue depth")
                    ax.set_ylabel("IOPS (median, min-max)")
                    ax.grid(True, alpha=0.3)
                    ax.legend(fontsize=8)
            fig.suptitle("%s: IOPS vs QD (emulator speed under TCG: compare lines, not values)" % rw,
                         fontsize=10)
            fig.tight_layout()
            name = "iops-%s-%s.png" % (dev, rw)
            fig.savefig(os.path.join(out, name), dpi=90)
            plt.close(fig)
            files.append(name)

    fig, axes = plt.subplots(1, len(devs) * len(engines), squeeze=False,
                             figsize=(5.5 * len(devs) * len(engines), 4))
    for n, (dev, engine) in enumerate([(d, e) for d in devs for e in engines]):
        ax = axes[0][n]
        for fs in fss:
            es = g.get((dev, fs, HEADLINE, engine), [])
            qds = [e["qd"] for e in es]
            ax.plot(qds, [e["baseline"]["ctxt_per_io"] for e in es], "o-", label="%s baseline" % fs)
            ax.plot(qds, [e["patched"]["ctxt_per_io"] for e in es], "s--", label="%s patched" % fs)
        es = g.get((dev, fss[0], HEADLINE, engine), []) if fss else []
        if es:
            ax.plot([e["qd"] for e in es], [e["patched"]["raw"]["ctxt_per_io"] for e in es],
                    "^:", label="raw bdev")
            ax.set_xscale("log", base=2)
            ax.set_xticks([e["qd"] for e in es])
            ax.set_xticklabels([str(e["qd"]) for e in es])
        ax.set_ylim(bottom=0)
        ax.set_title("%s %s %s" % (dev, engine, HEADLINE))
        ax.set_xlabel("queue depth")
        ax.set_ylabel("context switches per I/O")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ctxsw-per-io.png"), dpi=90)
    plt.close(fig)
    files.append("ctxsw-per-io.png")
    return files


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta", nargs="*", default=[])
    ap.add_argument("--series")
    ap.add_argument("--state", required=True)
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("units", nargs="+")
    a = ap.parse_args(argv)
    meta = dict(kv.split("=", 1) for kv in a.meta)
    meta["series_file"] = a.series
    if os.path.exists(os.path.join(a.state, "date")):
        meta.setdefault("date", open(os.path.join(a.state, "date")).read().strip())
    rows, errors, walls = load_units(a.state, a.units, meta)
    if not rows:
        raise ParseError("no cells in %s" % a.state)
    bad = [r for r in rows if r["fio_error"]]
    errors += ["rep%d %s %s/%s %s: fio error %s" % (r["rep"], r["kernel"], r["dev"], r["target"],
                                                     r["job"], r["fio_error"]) for r in bad]
    summary = aggregate(rows)
    os.makedirs(a.out, exist_ok=True)
    write_csv(os.path.join(a.out, "results.csv"), rows)
    meta_out = {k: v for k, v in meta.items() if k != "series_file"}
    meta_out["series"] = series_patches(a.series)
    meta_out["label"] = label(summary, meta.get("stack"))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"meta": meta_out, "rows": rows, "summary": summary, "errors": errors},
                  f, indent=1, sort_keys=True)
    plots = [] if a.no_plots else plot(a.out, summary)
    write_summary(os.path.join(a.out, "summary.md"), meta, rows, summary, errors, walls, plots)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ParseError, OSError, KeyError) as e:
        print("ERROR [bench]: aggregate: %s" % e, file=sys.stderr)
        sys.exit(1)
