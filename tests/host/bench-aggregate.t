#!/usr/bin/python3
# bench/aggregate.py: fio JSON -> rows -> medians, ratios and spread, on the
# checked-in samples in bench-samples/ (a real fio 3.33 JSON output and six
# small bench boots: 3 reps x baseline/patched, ext4 + raw, one with CR LF).
import csv
import importlib.util
import json
import os
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
samples = os.path.join(here, "bench-samples")
state = os.path.join(samples, "state")
spec = importlib.util.spec_from_file_location(
    "aggregate", os.path.join(here, "..", "..", "bench", "aggregate.py"))
agg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agg)

UNITS = ["rep%d-%s" % (r, k) for r in (1, 2, 3) for k in ("baseline", "patched")]
results = []


def check(name, ok, why=""):
    results.append(("ok" if ok else "not ok", name, "" if ok else " # " + str(why)))


def near(a, b, eps=1e-6):
    return a is not None and abs(a - b) <= eps


# A real fio JSON output: the fields a row takes from it.
with open(os.path.join(samples, "fio-randwrite-qd8-libaio.json")) as f:
    real = f.read()
stats = {"ctxt": "72452", "cpu_sys": "10", "cpu_irq": "0", "cpu_softirq": "0",
         "wq_dio": "36226", "ctx_src": "none", "ctx_task": "-", "ctx_wq": "-", "ctx_irq": "-"}
head = {"dev": "nvme", "target": "ext4", "job": "randwrite_4k_qd8_libaio", "rw": "randwrite",
        "bs": "4k", "qd": "8", "engine": "libaio"}
row = agg.cell_row(head, "fio: a warning line first\n" + real, stats)
check("real_fio_json.iops_and_ios", near(row["iops"], 36189.81019) and row["ios"] == 36226,
      (row["iops"], row["ios"]))
check("real_fio_json.clat_percentiles_in_us",
      near(row["clat_p50_us"], 86.528) and near(row["clat_p99_us"], 3850.24),
      (row["clat_p50_us"], row["clat_p99_us"]))
check("real_fio_json.per_io_counts",
      near(row["ctxt_per_io"], 2.0) and near(row["wq_dio_per_io"], 1.0)
      and near(row["sys_us_per_io"], 100000 / 36226) and row["ctx_wq_per_io"] is None,
      row)
# The series' contexts from their own run: per I/O of that run, not the cell.
ctx = dict(stats, ctx_src="iomap_dio_complete", ctx_task="100", ctx_wq="0",
           ctx_irq="300", ctx_ios="400")
row = agg.cell_row(head, real, ctx)
check("real_fio_json.ctx_per_io_of_its_own_run",
      near(row["ctx_task_per_io"], 0.25) and near(row["ctx_irq_per_io"], 0.75)
      and near(row["ctx_wq_per_io"], 0.0) and near(row["wq_dio_per_io"], 1.0)
      and row["ctx_separate"], row)
try:
    agg.cell_row(head, "{ not json", stats)
    check("bad_fio_json_is_an_error", False, "no ParseError")
except agg.ParseError:
    check("bad_fio_json_is_an_error", True)

# One boot, and one whose serial output has CR LF line ends.
for unit in ("rep1-patched", "rep2-baseline"):
    with open(os.path.join(state, unit + ".raw"), newline="") as f:
        guest, plan, rows, errors = agg.parse_raw(f.read())
    check("parse_raw.%s" % unit,
          len(rows) == 2 and plan.get("cells") == "2" and not errors
          and guest.get("release") == "6.1.176-" + unit.split("-")[1]
          and [r["target"] for r in rows] == ["ext4", "raw"],
          (len(rows), plan, guest, errors))

rows, errors, walls = agg.load_units(state, UNITS, {"series_hash": "abc"})
check("load_units.rows_tagged", len(rows) == 12 and sum(walls) == 360
      and {(r["rep"], r["kernel"]) for r in rows} == {(r, k) for r in (1, 2, 3) for k in agg.KERNELS}
      and all(r["series_hash"] == "abc" and r["accel"] == "tcg" for r in rows),
      (len(rows), walls))
r1 = [r for r in rows if (r["rep"], r["kernel"], r["target"]) == (1, "baseline", "ext4")][0]
check("load_units.per_io", near(r1["ctxt_per_io"], 2.0) and near(r1["wq_dio_per_io"], 1.0)
      and near(r1["sys_us_per_io"], 12.5), r1)

summary = agg.aggregate(rows)
check("aggregate.one_entry_per_fs_cell", len(summary) == 1 and summary[0]["fs"] == "ext4",
      len(summary))
e = summary[0]
b, p = e["baseline"], e["patched"]
check("aggregate.median_and_range", b["iops"] == 1000 and b["iops_range"] == (900, 1100)
      and near(b["iops_spread"], 0.2) and b["reps"] == 3, b)
pb = e["patched_over_baseline"]
check("aggregate.patched_over_baseline_paired_by_rep",
      near(pb["median"], 1.01) and near(pb["range"][0], 1.0) and near(pb["range"][1], 1.1)
      and near(pb["spread"], 0.1), pb)
check("aggregate.fs_over_raw_within_a_boot",
      near(p["fs_over_raw"]["median"], 0.5) and near(b["fs_over_raw"]["median"], 0.5)
      and near(b["fs_over_raw"]["range"][0], 0.45), (p["fs_over_raw"], b["fs_over_raw"]))
check("aggregate.counts", near(b["wq_dio_per_io"], 1.0) and near(p["ctx_wq_per_io"], 1.0)
      and b["ctx_src"] == "none" and p["ctx_src"] == "iomap_dio_complete"
      and near(p["raw"]["ctxt_per_io"], 1.0), p)
check("aggregate.raw_normalised_ab", near(e["patched_over_baseline_raw_normalised"], 1.0),
      e["patched_over_baseline_raw_normalised"])
check("median.even_count", agg.median([4, 1, 3, 2]) == 2.5 and agg.median([None, 5]) == 5)

label = agg.part1_label(summary)
check("label.groundwork_only", label.startswith("series part 1 not landed"), label)
landed = json.loads(json.dumps(summary))
landed[0]["patched"]["ctx_irq_per_io"] = 0.95
label = agg.part1_label(landed)
check("label.landed_irq_completions", label.startswith("series part 1 landed"), label)
for e in landed:
    e["patched"]["ctx_irq_per_io"] = None
    e["patched"]["wq_dio_per_io"] = 0.0
label = agg.part1_label(landed)
check("label.landed_without_ctx_event", label.startswith("series part 1 landed"), label)

with tempfile.TemporaryDirectory() as out:
    rc = agg.main(["--out", out, "--state", state, "--meta", "accel=tcg", "plan=quick",
                   "--series", os.path.join(here, "..", "..", "series")] + UNITS)
    files = sorted(os.listdir(out))
    check("main.outputs", rc == 0 and {"results.csv", "results.json", "summary.md",
                                       "ctxsw-per-io.png", "iops-nvme-randwrite.png"} <= set(files),
          files)
    with open(os.path.join(out, "results.csv")) as f:
        csv_rows = list(csv.DictReader(f))
    check("main.csv_one_row_per_cell_and_rep", len(csv_rows) == 12
          and csv_rows[0]["job"] == "randwrite_4k_qd1_io_uring", len(csv_rows))
    with open(os.path.join(out, "summary.md")) as f:
        md = f.read()
    check("main.summary_labels_tcg_and_part1",
          "not performance" in md and "series part 1 not landed" in md
          and "| 1 | 1000 | 1010 | 2020 | 1.010 (1.000-1.100)" in md, md[:400])

# One device a boot (bench/run.sh since 2026-12-04): units named
# repN-KERNEL-DEV, whose cells must all be on DEV, and the QEMU options and
# host CPU pin each boot.env records, named per device in summary.md.
with tempfile.TemporaryDirectory() as st:
    dev_units = [u + "-nvme" for u in UNITS]
    for u in UNITS:
        with open(os.path.join(state, u + ".raw"), newline="") as f:
            raw = f.read()
        with open(os.path.join(st, u + "-nvme.raw"), "w", newline="") as f:
            f.write(raw)
        with open(os.path.join(state, u + ".boot.env")) as f:
            env = f.read()
        with open(os.path.join(st, u + "-nvme.boot.env"), "w") as f:
            f.write(env + "host_cpu=1\nqemu_opts=-icount shift=3\n")
    rows, errors, walls = agg.load_units(st, dev_units, {})
    check("load_units.per_device_units", len(rows) == 12 and not errors
          and {(r["rep"], r["kernel"]) for r in rows} == {(r, k) for r in (1, 2, 3) for k in agg.KERNELS}
          and all(r["qemu_opts"] == "-icount shift=3" and r["host_cpu"] == "1" for r in rows),
          (len(rows), errors))
    os.rename(os.path.join(st, "rep1-baseline-nvme.raw"), os.path.join(st, "rep1-baseline-virtio-blk.raw"))
    try:
        agg.load_units(st, ["rep1-baseline-virtio-blk"], {})
        check("load_units.unit_device_mismatch_is_an_error", False, "no ParseError")
    except agg.ParseError:
        check("load_units.unit_device_mismatch_is_an_error", True)
    os.rename(os.path.join(st, "rep1-baseline-virtio-blk.raw"), os.path.join(st, "rep1-baseline-nvme.raw"))
    with tempfile.TemporaryDirectory() as out:
        agg.main(["--out", out, "--meta", "accel=tcg", "--state", st, "--no-plots"] + dev_units)
        with open(os.path.join(out, "summary.md")) as f:
            md = f.read()
    check("main.summary_names_options_and_pin_per_device",
          "nvme: -icount shift=3, pinned to host CPU 1" in md and "one device a boot" in md,
          [l for l in md.splitlines() if "QEMU" in l or "Plan" in l])

# The mixed job: its dio-bench-lat line joins the cell's row; the issuer
# and taken-back contexts count per I/O of the untimed run.
mixed_raw = "\n".join([
    "# dio-guest kernel=patched release=7.2.6-patched selftest=none",
    "# dio-bench-plan cells=1 fio=fio-3.33 runtime=3 warmup=2 ctx_event=yes",
    "# dio-bench-cell dev=nvme target=ext4 job=mixed_4k_qd8_io_uring rw=mixed bs=4k qd=8 "
    "engine=io_uring n=1/1",
    real,
    "# dio-bench-lat over_ios=485 over_p50_ns=1476 over_p99_ns=1990 unw_ios=515 "
    "unw_p50_ns=500512 unw_p99_ns=-",
    "# dio-bench-stats ctxt=10 cpu_sys=1 cpu_irq=0 cpu_softirq=0 wq_dio=0 "
    "ctx_src=iomap_dio_complete ctx_task=0 ctx_wq=10 ctx_irq=50 ctx_issuer=30 ctx_taken=10 "
    "ctx_ios=100 size=268435456",
    "# dio-bench-cell-end", ""])
guest, plan, mrows, errors = agg.parse_raw(mixed_raw)
m = mrows[0] if mrows else {}
check("parse_raw.mixed_latency_and_issuer_contexts",
      len(mrows) == 1 and m["over_p99_ns"] == 1990 and m["unw_p50_ns"] == 500512
      and m["unw_p99_ns"] is None and m["over_ios"] == 485
      and near(m["ctx_issuer_per_io"], 0.3) and near(m["ctx_taken_per_io"], 0.1), m)
old_row = agg.cell_row(head, real, stats)
check("cell_row.records_without_issuer_contexts",
      old_row["ctx_issuer_per_io"] is None and old_row["over_p99_ns"] is None, old_row)

# A cell where every rep of the patched kernel is slower is listed as such,
# and mainline's label reports what the two kernels did, measured.
rows, errors, walls = agg.load_units(state, UNITS, {})
for r in rows:
    if r["kernel"] == "patched":
        r["iops"] *= 0.5
slow = agg.aggregate(rows)
check("aggregate.all_reps_slower", slow[0]["patched_over_baseline"]["all_below_1"]
      and not summary[0]["patched_over_baseline"]["all_below_1"], slow[0]["patched_over_baseline"])
with tempfile.TemporaryDirectory() as out:
    agg.write_summary(os.path.join(out, "s.md"), {"accel": "tcg", "stack": "mainline"},
                      rows, slow, [], walls, [])
    with open(os.path.join(out, "s.md")) as f:
        md = f.read()
check("summary.lists_cells_where_every_rep_is_slower",
      "| nvme | ext4 | randwrite_4k_qd1_io_uring | 0.505 (0.500-0.550) |" in md, md)
check("summary.mainline_label", "**mainline: headline overwrites on the dio workqueue" in md,
      [l for l in md.splitlines() if l.startswith("**")])

print("TAP version 13")
print("1..%d" % len(results))
for n, (status, name, why) in enumerate(results, 1):
    print("%s %d bench_aggregate.%s%s" % (status, n, name, why))
sys.exit(0)
