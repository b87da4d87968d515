#!/usr/bin/env bash
# CPU time per thread of `mirador run` while PCAP is sent once at RATE
# datagrams/s over loopback, with peak RSS and the latency histogram.
#
#   tools/loopback-rate/thread-cpu.sh target/release/mirador app400.pcap 100000 [--rules FILE ...]
#
# Without --rules the sensor runs with --no-rules. Linux only (/proc).
set -euo pipefail
bin=$1 pcap=$2 rate=$3
shift 3
rules=("$@")
[ ${#rules[@]} -eq 0 ] && rules=(--no-rules)
udp=127.0.0.1:24789 http=127.0.0.1:29788
"$bin" run --eve /dev/null --workers 2 \
    --set "listen.vxlan=[\"$udp\"]" --set 'listen.geneve=[]' \
    --set "http.listen=[\"$http\"]" --set 'health.tcp=[]' --set stats.enabled=no \
    "${rules[@]}" 2>/dev/null &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until curl -s "http://$http/readyz" >/dev/null 2>&1; do sleep 0.2; done
cpu() { for t in /proc/$pid/task/*; do echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done; }
before=$(cpu)
"$bin" send --to "$udp" --rate "$rate" "$pcap" 2>&1 | head -1
sleep 2
curl -s "http://$http/metrics" | grep -E '^mirador_(packets_received|packets_dropped|kernel_dropped)_total|^mirador_packet_latency_seconds_(sum|count)'
grep VmHWM "/proc/$pid/status"
after=$(cpu)
hz=$(getconf CLK_TCK)
join <(echo "$before" | sort) <(echo "$after" | sort) |
    awk -v hz="$hz" '{printf "%-18s %7.2f s CPU\n", $1, ($3 - $2) / hz}'
