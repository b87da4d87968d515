#!/usr/bin/env python3
"""Compare mirador's EVE flow records with Suricata 7.0.10's for the
category-B suricata-verify tests that Suricata 7.0.10 reproduces.

For each test it runs ../shared/tools/suricata-diff once (--runs 1) with
the test's settings, keeps both eve.json files under OUT/runs/<test>/<variant>/
and compares the flow records: count and multiset of directed 5-tuples
(src_ip, src_port, dest_ip, dest_port, proto).

Settings passed (both engines, through suricata-diff --set):
  stream.midstream=<test value, else false>, stream.async-oneside=<test value,
  else false>, checksum-validation=none when the test has `-k none`, else `all`
  (Suricata-verify runs without -k use pcap-file.checksum-checks: auto, which
  validates until 1000 packets are seen: for these small pcaps, `all`),
  plus stream.inline / stream.reassembly.depth / flow-timeouts.* from args.
Suricata only: --simulate-ips (suricata-diff's simulate-ips key) and any other
--set of the test (e.g. stream.midstream-policy) through suricata-wrap.sh.
A second variant with checksum-validation=none is run for tests without -k none
(variant "ck-none"), to see what checksum validation changes.

usage: compare.py [--out DIR] [--bin PATH] [--only NAME]... [--no-variant]
"""
import argparse
import collections
import fnmatch
import ipaddress
import json
import os
import shlex
import subprocess
import sys

# The shared corpus and tools sit beside the repository.
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
TOOL = os.path.join(ROOT, "..", "shared", "tools", "suricata-diff")
WRAP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suricata-wrap.sh")
MIRADOR_KEYS = ("stream.midstream", "stream.async-oneside", "stream.inline",
                "stream.reassembly.depth")
PROTO = {"1": "ICMP", "6": "TCP", "17": "UDP", "47": "GRE", "58": "IPV6-ICMP", "132": "SCTP"}
TUNNEL_UDP_PORTS = {4789, 6081, 8472}


def norm_ip(v):
    try:
        return ipaddress.ip_address(str(v)).compressed
    except ValueError:
        return str(v)


def norm_proto(v):
    s = str(v if v is not None else "").upper()
    return PROTO.get(s, s)


def tup(ev):
    return (norm_ip(ev.get("src_ip")), ev.get("src_port", "-"),
            norm_ip(ev.get("dest_ip")), ev.get("dest_port", "-"), norm_proto(ev.get("proto")))


def is_tunnel_transport(ev):
    p = norm_proto(ev.get("proto"))
    if p == "GRE":
        return True
    return p == "UDP" and (ev.get("dest_port") in TUNNEL_UDP_PORTS
                           or ev.get("src_port") in TUNNEL_UDP_PORTS)


def read_flows(path):
    out = []
    if not os.path.exists(path):
        return None
    for line in open(path, "rb"):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if isinstance(ev, dict) and ev.get("event_type") == "flow":
            out.append(ev)
    return out


def brief(ev):
    f = ev.get("flow", {}) or {}
    t = ev.get("tcp", {}) or {}
    bits = ["pkts %s/%s" % (f.get("pkts_toserver"), f.get("pkts_toclient")),
            "start %s" % f.get("start"), "state %s" % f.get("state"),
            "reason %s" % f.get("reason")]
    if t:
        bits.append("tcp ts=%s tc=%s st=%s" % (t.get("tcp_flags_ts"), t.get("tcp_flags_tc"),
                                             t.get("state")))
    if ev.get("vlan"):
        bits.append("vlan %s" % ev.get("vlan"))
    if "icmp_type" in ev:
        bits.append("icmp %s/%s" % (ev.get("icmp_type"), ev.get("icmp_code")))
    if ev.get("app_proto"):
        bits.append("app %s" % ev.get("app_proto"))
    return ", ".join(bits)


def settings(test):
    toks = shlex.split(" ".join(test["args"]))
    s = {"ck": "all", "ips": False, "sets": {}, "suri_only": [], "noted": []}
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "-k" and i + 1 < len(toks):
            s["ck"] = toks[i + 1]
            i += 2
            continue
        if t == "--simulate-ips":
            s["ips"] = True
        elif t == "--set" and i + 1 < len(toks):
            k, v = toks[i + 1].split("=", 1)
            if k in MIRADOR_KEYS or k.startswith("flow-timeouts."):
                s["sets"][k] = v
            else:
                s["suri_only"] += ["--set", "%s=%s" % (k, v)]
            i += 2
            continue
        elif t.startswith("--set="):
            pass
        else:
            s["noted"].append(t)
        i += 1
    s["sets"].setdefault("stream.midstream", "false")
    s["sets"].setdefault("stream.async-oneside", "false")
    return s


def run_one(test, s, ck, outdir, binpath, timeout):
    folder = os.path.join(CORPUS, test["folder"])
    pcap = os.path.join(folder, test["pcap"])
    cmd = [TOOL, "--bin", binpath, "--suricata", WRAP, "--runs", "1",
           "--timeout", str(timeout), "--out", outdir]
    for r in test["rules"]:
        cmd += ["--rules", os.path.join(folder, r)]
    cmd += ["--set", "checksum-validation=%s" % ck]
    for k, v in sorted(s["sets"].items()):
        cmd += ["--set", "%s=%s" % (k, v)]
    if s["ips"]:
        cmd += ["--set", "simulate-ips=true"]
    cmd.append(pcap)
    env = dict(os.environ, FLOWDIFF_SURI_EXTRA="\n".join(s["suri_only"]))
    os.makedirs(outdir, exist_ok=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    with open(os.path.join(outdir, "suricata-diff.txt"), "wb") as fh:
        fh.write(b"$ FLOWDIFF_SURI_EXTRA=%r " % env["FLOWDIFF_SURI_EXTRA"].encode()
                 + " ".join(shlex.quote(c) for c in cmd).encode() + b"\n")
        fh.write(p.stdout)
    res = {"rc": p.returncode, "cmd": cmd, "suri_extra": s["suri_only"]}
    sf = read_flows(os.path.join(outdir, "suricata-run1", "eve.json"))
    mf = read_flows(os.path.join(outdir, "mirador-run1", "eve.json"))
    res["error"] = None if (sf is not None and mf is not None and p.returncode == 0) else \
        p.stdout.decode("utf-8", "replace")[-800:]
    sf, mf = sf or [], mf or []
    res["s_tunnel"] = [e for e in sf if is_tunnel_transport(e)]
    res["m_tunnel"] = [e for e in mf if is_tunnel_transport(e)]
    sf = [e for e in sf if not is_tunnel_transport(e)]
    mf = [e for e in mf if not is_tunnel_transport(e)]
    cs, cm = collections.Counter(map(tup, sf)), collections.Counter(map(tup, mf))
    res.update(n_s=len(sf), n_m=len(mf), only_s=cs - cm, only_m=cm - cs,
               s_ev=sf, m_ev=mf)
    # undirected comparison: which one-sided tuples are the same flow reversed
    und = lambda t: (tuple(sorted([(t[0], str(t[1])), (t[2], str(t[3]))])), t[4])
    res["reversed"] = sorted(set(map(und, res["only_s"])) & set(map(und, res["only_m"])))
    res["match"] = not res["only_s"] and not res["only_m"] and len(sf) == len(mf)
    return res


def fmt_t(t):
    return "%s:%s -> %s:%s %s" % t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="target/flow-compare")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "mirador"))
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--no-variant", action="store_true")
    ap.add_argument("--timeout", type=int, default=120)
    o = ap.parse_args()
    idx = json.load(open(os.path.join(CORPUS, "index.json")))
    tests = [t for t in idx["tests"] if t["category"].startswith("B")
             and t["suricata_7_0_10"] == "pass"]
    if o.only:
        tests = [t for t in tests if any(fnmatch.fnmatch(t["name"], p) for p in o.only)]
    rows = []
    for t in tests:
        s = settings(t)
        base = os.path.join(o.out, "runs", t["name"].replace("/", "__"))
        ck = "none" if s["ck"] == "none" else "all"
        r = run_one(t, s, ck, os.path.join(base, "test"), o.bin, o.timeout)
        v = None
        if ck != "none" and not o.no_variant:
            v = run_one(t, s, "none", os.path.join(base, "ck-none"), o.bin, o.timeout)
        rows.append((t, s, ck, r, v))
        print("%-55s %s  suricata %3d  mirador %3d%s" % (
            t["name"], "MATCH" if r["match"] else ("ERROR" if r["error"] else "DIFF "),
            r["n_s"], r["n_m"],
            "" if v is None else "   [ck-none: %s s=%d m=%d]" % (
                "match" if v["match"] else "diff", v["n_s"], v["n_m"])), flush=True)
    write_report(o, rows)


def write_report(o, rows):
    L = []
    n = len(rows)
    nm = sum(1 for r in rows if r[3]["match"])
    L.append("# mirador vs Suricata 7.0.10: inner EVE flow records, category B\n")
    L.append("mirador binary: `%s`%s\n" % (o.bin, "" if not os.path.exists(o.bin + ".commit") else
             " (built from %s)" % open(o.bin + ".commit").read().strip()))
    L.append("Tests: %d (category B, suricata_7_0_10 == pass). Exact match (count and "
             "directed 5-tuple multiset): %d. Mismatch: %d.\n" % (n, nm, n - nm))
    L.append("Tunnel transports (UDP 4789/6081/8472, GRE) are excluded from both sides before "
             "comparing; counts of excluded records are shown when non-zero.\n")
    L.append("Variant `ck-none` (tests without `-k none` only): the same run with "
             "checksum-validation=none on both engines.\n")
    L.append("| test | settings | suricata | mirador | result | ck-none s/m |")
    L.append("|---|---|---:|---:|---|---|")
    for t, s, ck, r, v in rows:
        sets = ["ck=" + ck] + ["%s=%s" % (k.replace("stream.", ""), v2)
                               for k, v2 in sorted(s["sets"].items())]
        if s["ips"]:
            sets.append("simulate-ips(suricata)")
        if s["suri_only"]:
            sets.append("suricata-only: " + " ".join(s["suri_only"][1::2]))
        res = "match" if r["match"] else ("ERROR" if r["error"] else "DIFF")
        vv = "-" if v is None else "%d/%d %s" % (v["n_s"], v["n_m"], "match" if v["match"] else "diff")
        L.append("| %s | %s | %d | %d | %s | %s |" % (t["name"], "; ".join(sets), r["n_s"],
                                                      r["n_m"], res, vv))
    L.append("\n## Details of mismatching tests\n")
    for t, s, ck, r, v in rows:
        for label, x in (("test settings", r), ("ck-none", v)):
            if x is None or x["match"]:
                continue
            L.append("### %s (%s)\n" % (t["name"], label))
            L.append("pcap `%s`; encapsulations %s; has suricata.yaml: %s; outputs `%s`\n" % (
                t["pcap"], t["encapsulations_in_pcap"], t["has_suricata_yaml"],
                os.path.dirname(os.path.join(o.out, "runs", t["name"].replace("/", "__"),
                                             "test" if label == "test settings" else "ck-none", "x"))))
            if x["error"]:
                L.append("ERROR:\n```\n%s\n```\n" % x["error"])
            L.append("counts: suricata %d, mirador %d%s\n" % (
                x["n_s"], x["n_m"],
                "; tunnel records excluded s=%d m=%d" % (len(x["s_tunnel"]), len(x["m_tunnel"]))
                if x["s_tunnel"] or x["m_tunnel"] else ""))
            if x["reversed"]:
                L.append("same endpoints, opposite direction: %d tuple(s)\n" % len(x["reversed"]))
            for side, only, evs in (("suricata", x["only_s"], x["s_ev"]),
                                    ("mirador", x["only_m"], x["m_ev"])):
                if not only:
                    continue
                L.append("only in %s (%d):" % (side, sum(only.values())))
                for tp, c in sorted(only.items(), key=lambda kv: str(kv[0])):
                    exs = [e for e in evs if tup(e) == tp]
                    L.append("- `%s` x%d — %s" % (fmt_t(tp), c, " | ".join(brief(e) for e in exs[:3])))
                L.append("")
    # hand-written analysis and the synthetic-case section (synth.py), when present
    here = os.path.dirname(os.path.abspath(__file__))
    for p in (os.path.join(here, "analysis.md"), os.path.join(o.out, "report-synth.md")):
        if os.path.exists(p):
            L.append("\n" + open(p).read())
    with open(os.path.join(o.out, "report.md"), "w") as fh:
        fh.write("\n".join(L) + "\n")
    json.dump([{"name": t["name"], "ck": ck, "sets": s["sets"], "ips": s["ips"],
                "suri_only": s["suri_only"], "n_s": r["n_s"], "n_m": r["n_m"], "match": r["match"],
                "only_s": [[list(k), c] for k, c in r["only_s"].items()],
                "only_m": [[list(k), c] for k, c in r["only_m"].items()],
                "ck_none": None if v is None else {"n_s": v["n_s"], "n_m": v["n_m"],
                                                   "match": v["match"]}}
               for t, s, ck, r, v in rows],
              open(os.path.join(o.out, "results.json"), "w"), indent=1)
    print("%d tests, %d match; report: %s" % (n, nm, os.path.join(o.out, "report.md")))


if __name__ == "__main__":
    main()
