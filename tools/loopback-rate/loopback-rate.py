#!/usr/bin/env python3
"""The highest rate `mirador run` takes over loopback without a drop.

Each trial starts a fresh sensor (`mirador run`, VXLAN on a loopback port the
kernel picks: flows left from an earlier trial would make a repeated capture
look like retransmissions, which cost less) and sends PCAP to it with
`mirador send --rate R --loop L`, at rising rates;
a trial passes when every datagram sent was received and neither the kernel
(`mirador_kernel_dropped_total`) nor the sensor (`mirador_packets_dropped_total`)
dropped any. Rates double until a trial fails (or the sender cannot reach the
rate), then a bisection narrows the highest passing rate. Prints one line per
trial and a summary with packets/s and Gbit/s (UDP payload).

    tools/loopback-rate/loopback-rate.py target/release/mirador app.pcap \\
        [--rules FILE ...] [--workers N] [--seconds S] [--set KEY=VALUE ...]

Without --rules the sensor runs with --no-rules. Sender and sensor share the
machine's cores: quote the figure with the machine it was measured on.
"""
import argparse
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request


def start(mirador, args):
    cmd = [mirador, "run", "--eve", "/dev/null",
           "--set", 'listen.vxlan=["127.0.0.1:0"]', "--set", "listen.geneve=[]",
           "--set", 'http.listen=["127.0.0.1:0"]', "--set", "health.tcp=[]",
           "--set", "logging.format=json", "--set", "stats.enabled=no"]
    if args.rules:
        for r in args.rules:
            cmd += ["--rules", r]
    else:
        cmd.append("--no-rules")
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    for s in args.set or []:
        cmd += ["--set", s]
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    udp = http = None
    lines = []
    for line in p.stderr:
        lines.append(line)
        try:
            v = json.loads(line)
        except ValueError:
            continue
        f = v.get("fields", {})
        m = f.get("message", "")
        if m == "listening":
            udp = f.get("bound")
        elif m.startswith("HTTP endpoint"):
            http = f.get("address")
        elif m == "mirador running":
            break
    if not (udp and http):
        sys.exit("mirador run did not start:\n" + "".join(lines))
    threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
    return p, udp, http


def metrics(http):
    text = urllib.request.urlopen(f"http://{http}/metrics", timeout=30).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        series, value = line.rsplit(" ", 1)
        name = series.split("{", 1)[0]
        out[name] = out.get(name, 0.0) + float(value)
    return out


def counts(http):
    m = metrics(http)
    return (m.get("mirador_packets_received_total", 0),
            m.get("mirador_packets_dropped_total", 0),
            m.get("mirador_kernel_dropped_total", 0))


def trial(args, rate, loops):
    p, udp, http = start(args.mirador, args)
    try:
        return trial_on(args, udp, http, rate, loops)
    finally:
        p.terminate()
        p.wait()


def trial_on(args, udp, http, rate, loops):
    before = counts(http)
    out = subprocess.run(
        [args.mirador, "send", "--to", udp, "--rate", str(rate), "--loop", str(loops), args.pcap],
        capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    m = re.search(r"mirador send: (\d+) datagrams, (\d+) bytes .* in ([\d.]+) s: (\d+) datagrams/s, ([\d.]+) Mbit/s",
                  out.stderr)
    sent, sent_bytes, secs, pps, mbps = int(m[1]), int(m[2]), float(m[3]), int(m[4]), float(m[5])
    # Wait until everything sent is accounted for (received or dropped by the kernel).
    deadline = time.time() + 120
    while True:
        now = counts(http)
        d = [a - b for a, b in zip(now, before)]
        if d[0] + d[2] >= sent or time.time() > deadline:
            break
        time.sleep(0.1)
    received, dropped, kernel = d
    ok = dropped == 0 and kernel == 0 and received == sent
    # The sender fell short of the asked rate: the rate is the sender's limit.
    reached = pps >= 0.95 * rate
    print(f"rate {rate:>9} pps asked, {pps:>9} sent/s, {mbps:9.1f} Mbit/s: "
          f"received {int(received)}/{sent}, queue drops {int(dropped)}, kernel drops {int(kernel)}"
          f" -> {'ok' if ok else 'DROPS'}{'' if reached else ' (sender below the rate)'}",
          flush=True)
    return ok, reached, pps, mbps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mirador")
    ap.add_argument("pcap")
    ap.add_argument("--rules", action="append")
    ap.add_argument("--workers", type=int)
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="each trial sends for about this long (the capture is looped), long enough "
                         "that the queues (tens of thousands of datagrams) cannot hide a shortfall")
    ap.add_argument("--start", type=int, default=25_000)
    ap.add_argument("--set", action="append")
    args = ap.parse_args()
    per_pass = int(subprocess.run(["capinfos", "-c", "-M", args.pcap], capture_output=True, text=True)
                   .stdout.split(":")[-1].strip() or 0)
    loops_at = lambda rate: max(1, round(rate * args.seconds / max(per_pass, 1)))
    best = None
    rate = args.start
    lo, hi = 0, None
    while hi is None:
        ok, reached, pps, mbps = trial(args, rate, loops_at(rate))
        if ok:
            best = (pps, mbps)
            lo = rate
            if not reached:
                print("the sender is the limit: stopping")
                break
            rate *= 2
        else:
            hi = rate
    if hi is not None:
        for _ in range(5):
            mid = (lo + hi) // 2
            ok, _, pps, mbps = trial(args, mid, loops_at(mid))
            if ok:
                lo, best = mid, (pps, mbps)
            else:
                hi = mid
    if best:
        pps, mbps = best
        print(f"highest rate without a drop: {pps} packets/s, {mbps / 1000:.3f} Gbit/s (UDP payload)")
    else:
        print("drops even at the starting rate")


if __name__ == "__main__":
    main()
