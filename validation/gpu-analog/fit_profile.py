#!/usr/bin/env python3
"""Fits the H200 analog's hardware profile (h200.json) from the calibration and alone measurements
only: HBM rate, the GEMM's streaming rate, the L2 re-read rate, the prefetch rate and set-up, the
fork/join cost, the in-sequence op cost and the contention share. The combined rows (combined_i,
combined_ii, combined_iii) are not read here: `score` uses them to judge the fit.

usage: python3 validation/gpu-analog/fit_profile.py [DATA_DIR] [OUT_JSON]
       (defaults: the data/ beside this, and h200.json beside this). Standard library only.
"""
import json
import os
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analog_data  # noqa: E402  (beside this file)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "h200.json")
MIB = analog_data.MIB
fit_line = analog_data.fit_line
SRC = "validation/gpu-analog/fit_profile.py"


def rows(name):
    return analog_data.rows(DATA, name)


meta = json.load(open(os.path.join(DATA, "meta.json")))
l2 = float(meta["l2_cache_bytes"])
params = {}


def put(name, value, source):
    params[name] = {"value": round(value, 6), "source": source}


# ---- HBM peak and L2 ---------------------------------------------------------------------------
bw = {r["test"]: r for r in rows("bandwidth.csv")}
peak = bw["hbm_read_1GiB"]["GBps"]
put("hbm_GBps", peak, f"measured: a streaming read kernel over 1 GiB (data/bandwidth.csv hbm_read_1GiB); {SRC}")
hot16, hot32 = bw["l2_reread_16MiB"], bw["l2_reread_32MiB"]
l2_rate = (hot32["bytes"] - hot16["bytes"]) / (hot32["median_us"] - hot16["median_us"]) / 1e3
put("l2_GBps", l2_rate, "measured: slope of an L2-hot read kernel between 16 and 32 MiB (data/bandwidth.csv l2_reread_*); " + SRC)
put("l2_size_bytes", l2, "cudaDeviceProp::l2CacheSize (data/meta.json)")

# ---- ops alone and in sequence (seq_k.csv, graph) ---------------------------------------------
by_op = defaultdict(dict)
for r in rows("seq_k.csv"):
    if r["mode"] == "graph":
        by_op[r["op"]][int(r["count"])] = r["median_us"]
fixed, slopes = {}, {}
for op, t in by_op.items():
    ks = sorted(t)
    a, b = fit_line(ks, [t[k] for k in ks])
    slopes[op] = b
    fixed[op] = t[1] - b
alone_fixed = statistics.median(fixed[o] for o in ("empty", "vec_lat_1iter_32tok", "vec_mem_4MiB", "gemm_N2048_K4096_M32"))
put("alone_fixed_us", alone_fixed,
    "measured: median over empty kernel, vec_lat, vec_mem and GEMM of t(1) - slope of k back-to-back copies in one graph "
    f"(data/seq_k.csv: {', '.join(f'{o} {fixed[o]:.2f}' for o in sorted(fixed))} us); {SRC}")
put("op_overhead_us", slopes["empty"],
    f"measured: the in-sequence cost of an empty kernel, slope of k copies in a graph (data/seq_k.csv); {SRC}")

# ---- the GEMM's streaming rate (gemm_alone.csv, cold) ----------------------------------------
cold = [r for r in rows("gemm_alone.csv") if r["state"] == "cold"]
a, b = fit_line([r["weight_bytes"] for r in cold], [r["median_us"] for r in cold])
stream_GBps = 1.0 / b / 1e3
eff = min(1.0, stream_GBps / peak)
put("matmul_stream_efficiency", eff,
    f"measured: cuBLASLt bf16 GEMM alone, L2 flushed, duration = {a:.2f} us + bytes / {stream_GBps:.0f} GB/s over "
    f"{len(cold)} shapes (data/gemm_alone.csv cold), against hbm_GBps; {SRC}")

# ---- L2 saving of prefetched lines (gemm_alone.csv, preload_tma1 / preload_tma16) ------------
# The tool's memory part of a measured GEMM: its weight at the streaming rate.
groups = defaultdict(dict)
cold_t = {(r["N"], r["tokens_M"]): r["median_us"] for r in cold}
for r in rows("gemm_alone.csv"):
    if r["state"] in ("preload_tma1", "preload_tma16") and r["weight_over_l2"] <= 1.0:
        key = (r["N"], r["tokens_M"], r["state"])
        groups[key][round(r["preload_frac"], 2)] = cold_t[(r["N"], r["tokens_M"])] - r["median_us"]
        groups[key]["W"] = r["weight_bytes"]
fractions = [round(0.1 * i, 1) for i in range(1, 11)]
ratios, curves = [], defaultdict(list)
for key, saved in groups.items():
    mem = saved["W"] / (stream_GBps * 1e3)
    full = statistics.median(saved[f] for f in fractions if f >= 0.5)  # the saturated saving
    if full < 0.3:  # below the noise: no shape to learn
        continue
    ratios.append(full / mem)
    for f in fractions:
        curves[f].append(saved[f] / full)
frac_saved = statistics.median(ratios)
# The curve: median per fraction, then made non-decreasing by pooling adjacent violators (more of
# the weight in L2 cannot make the read slower; the 0.8 bump of the raw medians is noise of about
# 0.1 us), and scaled so that the whole weight in L2 is 1, the speed-up taking the plateau.
raw = [statistics.median(curves[f]) for f in fractions]
blocks_pav = [[v, 1] for v in raw]
i = 0
while i < len(blocks_pav) - 1:
    if blocks_pav[i][0] > blocks_pav[i + 1][0]:
        a, b = blocks_pav[i], blocks_pav[i + 1]
        blocks_pav[i:i + 2] = [[(a[0] * a[1] + b[0] * b[1]) / (a[1] + b[1]), a[1] + b[1]]]
        i = max(0, i - 1)
    else:
        i += 1
mono = [v for v, n in blocks_pav for _ in range(n)]
plateau = mono[-1]
frac_saved *= plateau
speedup = 1.0 / max(1e-3, 1.0 - frac_saved)
put("l2_read_speedup", speedup,
    f"measured: a GEMM whose weight a TMA prefetch put in L2 saves {100 * frac_saved:.0f} % of its weight streaming time "
    f"(median over {len(ratios)} shapes up to 1 x L2, 1 and 16 issuing blocks, f >= 0.5, times the monotone curve's "
    f"plateau {plateau:.3f}; data/gemm_alone.csv preload_tma*); "
    "lines a read kernel loaded save more (hot rows), which is why those rows are not used; " + SRC)
points = [[0.0, 0.0]] + [[f, round(v / plateau, 4)] for f, v in zip(fractions, mono)]
points[-1][1] = 1.0
params["l2_saving_curve"] = {
    "points": points,
    "source": "measured: saved(f) / saved(f >= 0.5) of the same shapes, median per f, made non-decreasing (pool adjacent "
              "violators) and scaled to 1 at f = 1 (data/gemm_alone.csv preload_tma*); " + SRC,
}

# ---- the prefetch (prefetch_alone.csv, wait mode, 64 KiB chunks) -----------------------------
pa = rows("prefetch_alone.csv")
rate = {}
for blocks in (1, 4, 16):
    pts = [r for r in pa if r["mode"] == "wait" and r["blocks"] == blocks and r["chunk_bytes"] == 65536 and r["count"] == 1
           and MIB <= r["total_bytes"] <= 48 * MIB]
    a, b = fit_line([r["total_bytes"] for r in pts], [r["median_us"] for r in pts])
    rate[blocks] = 1.0 / b / 1e3
put("cmo_GBps", rate[1],
    f"measured: one issuing block, wait mode, 64 KiB chunks, 1-48 MiB: duration = a + bytes / rate (data/prefetch_alone.csv); "
    f"4 blocks {rate[4]:.0f}, 16 blocks {rate[16]:.0f} GB/s (score passes them with --hw-set); {SRC}")
# Set-up in sequence: the cost of each extra kernel when the same bytes are split into k on one stream.
extra = []
by_total = defaultdict(dict)
for r in pa:
    if r["mode"] == "wait" and r["chunk_bytes"] == 65536 and r["count"] >= 1 and r["total_bytes"] in (8 * MIB, 32 * MIB):
        by_total[(r["blocks"], r["total_bytes"])][int(r["count"])] = r["median_us"]
for key, t in by_total.items():
    ks = [k for k in (1, 2, 4, 8) if k in t]
    if len(ks) >= 3:
        extra.append(fit_line(ks, [t[k] for k in ks])[1])
setup = statistics.median(extra)
put("cmo_setup_us", setup,
    f"measured: each extra prefetch kernel queued on one stream costs {setup:.2f} us (median over blocks 1/4/16 x 8/32 MiB, "
    f"wait mode; data/prefetch_alone.csv count > 1); {SRC}")

# ---- fork and join with no bytes (forkjoin.csv, graph) ---------------------------------------
fj = {r["variant"]: r["median_us"] for r in rows("forkjoin.csv") if r["mode"] == "graph"}
fork_join = max(0.0, fj["empty_fork_join_empty"] - fj["empty_empty"])
put("fork_us", fork_join / 2,
    f"measured: a fork and a join with nothing between them cost {fj['empty_fork_join_empty'] - fj['empty_empty']:+.2f} us "
    f"in a graph (data/forkjoin.csv empty_fork_join_empty - empty_empty), split evenly, floored at 0; {SRC}")
put("join_us", fork_join / 2, "as fork_us")

# ---- contention: a prefetch beside a memory-bound vector op (prefetch_contention.csv) ---------
cont = defaultdict(dict)
for r in rows("prefetch_contention.csv"):
    if r["prefetch_mode"] == "wait":
        cont[(r["blocks"], r["prefetch_bytes"], r["vec_bytes_read"])][r["variant"]] = r


def share(d_c, d_p, cap, w, floor=None):
    """The engine's rule (lib/sim/simulator.cc Engine::share): a weighted arbiter above capacity;
    beside a matmul with cmo_GBps_beside_matmul (`floor`, B/us) the CMO keeps that rate instead."""
    if d_c + d_p <= cap:
        return d_c, d_p
    if floor is not None:
        r_p = min(d_p, max(floor, cap - d_c))
        return min(d_c, cap - r_p), r_p
    share_c = cap * d_c / (d_c + w * d_p)
    if share_c >= d_c:
        return d_c, min(d_p, cap - d_c)
    if cap - share_c >= d_p:
        return min(d_c, cap - d_p), d_p
    return share_c, cap - share_c


def both_run(w, k, v, pf_a, cap, floor=None, op_rate=None):
    """One measured op (a vector op; a GEMM when `op_rate`, its streaming rate in B/us, is given)
    and one CMO, both from t = 0, as the engine runs them: each a fixed part without HBM traffic,
    then its bytes. Returns (op end, CMO end)."""
    vec_alone, vec_bytes = v["vec_only"]["vec_end_us"], v["vec_bytes"]
    pf_alone, pf_bytes = v["prefetch_only"]["prefetch_end_us"], v["pf_bytes"]
    if op_rate is None:
        vec_fixed = alone_fixed + slopes["empty"]
        work = max(1e-3, vec_alone - vec_fixed)
        d_c = k * vec_bytes / work
    else:  # a measured matmul: its bytes at its streaming rate, the rest of its time fixed
        work = vec_bytes / op_rate
        vec_fixed = max(0.0, vec_alone - work)
        d_c = op_rate
    r_alone = pf_bytes / max(1e-3, pf_alone - pf_a)
    t, work_left, bytes_left = 0.0, work, pf_bytes
    vec_start, pf_start = vec_fixed, pf_a
    t_vec_end = t_pf_end = None
    while t_vec_end is None or t_pf_end is None:
        vec_on = t >= vec_start - 1e-12 and t_vec_end is None
        pf_on = t >= pf_start - 1e-12 and t_pf_end is None
        if vec_on and pf_on:
            r_c, r_p = share(d_c, r_alone, cap, w, floor)
        else:
            r_c, r_p = (d_c if vec_on else 0.0), (r_alone if pf_on else 0.0)
        events = []
        if not vec_on and t_vec_end is None:
            events.append(vec_start - t)
        if not pf_on and t_pf_end is None:
            events.append(pf_start - t)
        if vec_on:
            events.append(work_left / (r_c / d_c))
        if pf_on:
            events.append(bytes_left / r_p)
        dt = max(0.0, min(events))
        if vec_on:
            work_left -= dt * r_c / d_c
        if pf_on:
            bytes_left -= dt * r_p
        t += dt
        if t_vec_end is None and vec_on and work_left <= 1e-9:
            t_vec_end = t
        if t_pf_end is None and pf_on and bytes_left <= 1e-6:
            t_pf_end = t
    return t_vec_end, t_pf_end


pf_intercept = {}
for blocks in (1, 4, 16):
    pts = [r for r in pa if r["mode"] == "wait" and r["blocks"] == blocks and r["chunk_bytes"] == 65536 and r["count"] == 1
           and MIB <= r["total_bytes"] <= 48 * MIB]
    pf_intercept[blocks] = fit_line([r["total_bytes"] for r in pts], [r["median_us"] for r in pts])[0]
for (blocks, pf_bytes, vec_bytes), v in cont.items():
    v["vec_bytes"], v["pf_bytes"] = vec_bytes, pf_bytes


def contention_error(w, k):
    err = 0.0
    for (blocks, _, _), v in cont.items():
        vec_end, pf_end = both_run(w, k, v, pf_intercept[blocks], peak * 1e3)
        err += (vec_end / v["both"]["vec_end_us"] - 1) ** 2 + (pf_end / v["both"]["prefetch_end_us"] - 1) ** 2
    return err


fit_err, best_w, best_k = min((contention_error(w, k), w, k) for w in [0.02 * i for i in range(1, 51)]
                              for k in [2.0 + 0.05 * j for j in range(0, 21)])
residual = (fit_err / (2 * len(cont))) ** 0.5
put("cmo_qos_weight", best_w,
    f"fitted with vec_traffic_factor {best_k:.2f}: least squares of the engine's share rule against {len(cont)} "
    f"prefetch + vec_mem pairs (vector op end and prefetch end, both running; data/prefetch_contention.csv wait mode), "
    f"rms error {100 * residual:.1f} %; {SRC}")
# ---- contention beside a GEMM (gemm_contention.csv): the rate a CMO keeps -------------------
gcont = defaultdict(dict)
for r in rows("gemm_contention.csv"):
    gcont[(r["blocks"], r["prefetch_bytes"], r["weight_bytes"])][r["variant"]] = r
for (blocks, pf_bytes, w_bytes), v in gcont.items():
    v["vec_only"] = {"vec_end_us": v["gemm_only"]["gemm_end_us"]}
    v["prefetch_only"] = v["prefetch_only"]
    v["both"]["vec_end_us"] = v["both"]["gemm_end_us"]
    v["vec_bytes"], v["pf_bytes"] = w_bytes, pf_bytes
gemm_rate = min(stream_GBps, peak) * 1e3


def gemm_contention_error(floor_GBps):
    err = 0.0
    for (blocks, _, _), v in gcont.items():
        g_end, pf_end = both_run(best_w, best_k, v, pf_intercept[blocks], peak * 1e3, floor_GBps * 1e3, gemm_rate)
        err += (g_end / v["both"]["gemm_end_us"] - 1) ** 2 + (pf_end / v["both"]["prefetch_end_us"] - 1) ** 2
    return err


g_err, best_floor = min((gemm_contention_error(f), f) for f in range(10, 1010, 10))
g_residual = (g_err / (2 * len(gcont))) ** 0.5
put("cmo_GBps_beside_matmul", float(best_floor),
    f"fitted: least squares of the engine's rule (a CMO beside a matmul that wants all of HBM keeps this rate) against "
    f"{len(gcont)} GEMM + prefetch-of-other-bytes pairs, 1/4/16 blocks (GEMM end and prefetch end; "
    f"data/gemm_contention.csv), rms error {100 * g_residual:.1f} %; the weighted arbiter cannot fit them: a one-block "
    f"prefetch keeps about 60 % of its rate beside a GEMM, a 16-block one almost nothing (the GEMM's TMA loads and "
    f"the prefetch share each SM's TMA unit, which Ascend's SDMA does not); {SRC}")

# ---- what the analog does not exercise ---------------------------------------------------------
for name, value, source in [
    ("cube_TFLOPS_bf16", 989.0, "NVIDIA H200 datasheet, dense bf16 Tensor Core (SXM); not used: the analog's ops are measured"),
    ("cube_TOPS_int8", 1979.0, "NVIDIA H200 datasheet, dense int8 Tensor Core (SXM); not used"),
    ("vector_TFLOPS_fp16", 60.0, "NVIDIA H200 datasheet, fp32 CUDA core rate 67 TFLOPS, rounded; not used: measured ops"),
    ("vector_TFLOPS_fp32", 60.0, "as vector_TFLOPS_fp16; not used"),
    ("matmul_efficiency", 0.7, "not used: every op of the analog is measured"),
    ("vector_efficiency", 0.5, "not used: every op of the analog is measured"),
    ("vector_hbm_fraction", 1.0, "the analog's vector ops give their HBM bytes explicitly (vec_mem) or have none (vec_lat)"),
    ("comm_GBps", 100.0, "not used: the analog has no collective (its all-reduce is a vec_lat stand-in)"),
    ("comm_latency_us", 0.0, "not used: no collective"),
]:
    put(name, value, source)

order = ["cube_TFLOPS_bf16", "cube_TOPS_int8", "vector_TFLOPS_fp16", "vector_TFLOPS_fp32", "matmul_efficiency",
         "vector_efficiency", "hbm_GBps", "matmul_stream_efficiency", "vector_hbm_fraction", "l2_size_bytes", "l2_GBps",
         "l2_read_speedup", "cmo_GBps", "cmo_qos_weight", "cmo_GBps_beside_matmul", "cmo_setup_us", "op_overhead_us", "alone_fixed_us", "fork_us",
         "join_us", "comm_GBps", "comm_latency_us", "l2_saving_curve"]
profile = {
    "schema": "prefetch-tuner/hardware/1",
    "name": "h200-analog",
    "description": f"{meta['gpu_name']} ({meta['sm_count']} SMs, {l2 / MIB:.0f} MiB L2) as the GPU analog of a CMO "
                   f"prefetch: a TMA bulk prefetch issued from 1 block (4 and 16 with --hw-set cmo_GBps); fitted "
                   f"{meta['date']} by {SRC} from the calibration and alone rows of validation/gpu-analog/data",
    "family": "H200 (GPU analog)",
    "parameters": {k: params[k] for k in order},
}
lines = ["{"]
for k in ("schema", "name", "description", "family"):
    lines.append(f"  {json.dumps(k)}: {json.dumps(profile[k])},")
lines.append('  "parameters": {')
items = list(profile["parameters"].items())
for i, (k, v) in enumerate(items):
    lines.append(f"    {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(items) - 1 else ""))
lines += ["  }", "}"]
with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
# What score needs beside the profile: the prefetch rate of each block count, and how much HBM
# traffic a vec_mem op makes per byte it reads (read + write, a write costing a little more).
with open(os.path.join(os.path.dirname(OUT), "fitted.json"), "w") as f:
    json.dump({"cmo_GBps_by_blocks": {str(k): round(v, 1) for k, v in rate.items()},
               "vec_traffic_factor": round(best_k, 3),
               "contention_rms_error_pct": round(100 * residual, 2),
               "gemm_contention_rms_error_pct": round(100 * g_residual, 2)}, f, indent=2)
    f.write("\n")
print(f"wrote {OUT}")
for k in order:
    v = profile["parameters"][k]
    print(f"  {k:26s} {v.get('value', v.get('points'))}")
print(f"  cmo rates by blocks: {', '.join(f'{k}: {v:.0f} GB/s' for k, v in rate.items())}")
print(f"  vec traffic factor {best_k:.2f}, contention rms error {100 * residual:.1f} %")
print(f"  cmo beside a matmul {best_floor} GB/s, rms error {100 * g_residual:.1f} %")
