#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of tools/demo (runs as root in the 6.12 guest, with
# katls.ko and katls_sim_tsm.ko loaded by tools/katls-vm).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
kcat=$top/userspace/cli/build/katls-cat
ctl=$top/userspace/cli/build/katlsctl
katlsd=$top/userspace/katlsd/build/katlsd
d=$(mktemp -d)
bad=0

# Bold headings only when tools/demo found a terminal (KATLS_DEMO_COLOR=1):
# no escape codes in logs and pipes.
if [ "${KATLS_DEMO_COLOR:-0}" = 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
fail() { echo "demo: UNEXPECTED: $*"; bad=1; }
# nsenter, not "ip netns exec": the latter remounts /sys, which would
# hide configfs-tsm (/sys/kernel/config) from the agent.
in_srv() { nsenter --net=/run/netns/katls-srv "$@"; }
in_cli() { nsenter --net=/run/netns/katls-cli "$@"; }

say "Kernel $(uname -r); modules"
grep -E '^(katls|katls_sim_tsm|tls) ' /proc/modules | awk '{print "  " $1}'
echo "  TEE: $(cat /sys/module/katls_sim_tsm/parameters/measurement 2>/dev/null |
	cut -c1-32)... (simulated configfs-tsm provider, test-only)"

say "Two hosts: namespaces katls-srv (10.77.0.1) and katls-cli (10.77.0.2)"
ip netns add katls-srv
ip netns add katls-cli
ip link add veth-s netns katls-srv type veth peer name veth-c netns katls-cli
in_srv ip addr add 10.77.0.1/24 dev veth-s
in_cli ip addr add 10.77.0.2/24 dev veth-c
in_srv ip link set lo up
in_cli ip link set lo up
in_srv ip link set veth-s up
in_cli ip link set veth-c up
in_cli ping -c1 -W2 10.77.0.1 >/dev/null && echo "  veth link up"

say "katlsd in each namespace"
mkdir -p "$d/policy.d"
cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/policy.d/"
katls_self_signed "$d" katls-demo-server 10.77.0.1
katls_conf "$d/srv.conf" 4 info "$d/policy.d" "$d/cert.pem" "$d/key.pem"
katls_conf "$d/cli.conf" 4 info "$d/policy.d"
in_srv "$katlsd" --foreground --config "$d/srv.conf" >"$d/srv.log" 2>&1 &
in_cli "$katlsd" --foreground --config "$d/cli.conf" >"$d/cli.log" 2>&1 &
katls_wait_for started "$d/srv.log" || fail "server katlsd did not start"
katls_wait_for started "$d/cli.log" || fail "client katlsd did not start"
echo "  server agent: attests (evidence from configfs-tsm, binder v1)"
echo "  client agent: verifies under policy sim-demo:"
sed 's/^/    | /' "$d/policy.d/sim-demo.policy" | grep -v '^    | #'

say "Attested transfer: client -> server, 1 MB, kTLS after the verdict"
head -c 1000000 /dev/urandom >"$d/file"
printf 'KATLS-DEMO-PLAINTEXT-MARKER\n' >>"$d/file"
# Counters before the transfer, to show what moved.
tls_rx() { in_cli awk '$1 == "TlsRxSw" {print $2}' /proc/net/tls_stat; }
rx0=$(tls_rx)
ctl_stat() { "$ctl" stat | awk -v k="$1" '$1 == k {print $2}'; }
verified0=$(ctl_stat verified)
# Not through in_cli: $! must be tcpdump itself (nsenter execs it).
nsenter --net=/run/netns/katls-cli tcpdump --immediate-mode -B 32768 -Z root \
	-i veth-c -U -w "$d/cap.pcap" tcp port 4433 2>"$d/tcpdump.err" &
tpid=$!
katls_wait_for listening "$d/tcpdump.err" || fail "tcpdump did not start"
tls_tx() { in_cli awk '$1 == "TlsTxSw" {print $2}' /proc/net/tls_stat; }
tx0=$(tls_tx)
in_srv "$kcat" -l -p sim-demo 4433 >"$d/recv" 2>"$d/srv.err" &
spid=$!
sleep 1
in_cli "$kcat" --policy sim-demo 10.77.0.1 4433 <"$d/file" 2>"$d/cli.err"
crc=$?
wait $spid
src=$?
sleep 1
kill -INT $tpid
wait $tpid
echo "client (stderr):"
sed 's/^/  /' "$d/cli.err"
echo "server (stderr):"
sed 's/^/  /' "$d/srv.err"
[ $crc -eq 0 ] && [ $src -eq 0 ] || fail "transfer exit status client $crc server $src"
echo "sha256 sent:     $(sha256sum <"$d/file" | cut -c1-64)"
echo "sha256 received: $(sha256sum <"$d/recv" | cut -c1-64)"
cmp -s "$d/file" "$d/recv" || fail "received file differs"
echo "kTLS sockets in the client namespace (/proc/net/tls_stat):"
echo "  TlsTxSw $tx0 -> $(tls_tx), TlsRxSw $rx0 -> $(tls_rx)"
echo "  The kernel's own TLS (kTLS) took over the client's socket in both"
echo "  directions, with the keys katlsd handed to it: the records on the wire"
echo "  were encrypted in the kernel; katls-cat itself does no cryptography."
[ "$(tls_tx)" -gt "$tx0" ] || fail "kTLS TX counter did not move"
[ "$(tls_rx)" -gt "$rx0" ] || fail "kTLS RX counter did not move"
echo "katls counters (katlsctl stat, module-wide):"
"$ctl" stat | sed 's/^/  /'
echo "  verified $verified0 -> $(ctl_stat verified): each end's socket was released"
echo "  by the kernel only after its agent reported a verified handshake (the"
echo "  client's: evidence checked against sim-demo); no byte moved before."
[ "$(ctl_stat verified)" -ge $((verified0 + 2)) ] ||
	fail "katls verified counter did not count both ends"
bytes=$(stat -c %s "$d/cap.pcap" 2>/dev/null || echo 0)
if [ "$bytes" -lt 1000000 ]; then
	fail "the capture on veth-c holds only $bytes bytes"
elif grep -q KATLS-DEMO-PLAINTEXT-MARKER "$d/cap.pcap"; then
	fail "plaintext marker seen on the wire"
else
	echo "capture on veth-c: $bytes bytes; the file's plaintext marker is not among them"
fi
say "The server's TEE now measures something else: the client must refuse"
printf 'ab%.0s' $(seq 48) >/sys/module/katls_sim_tsm/parameters/measurement
echo "  measurement now $(cut -c1-32 /sys/module/katls_sim_tsm/parameters/measurement)..."
echo "  (a server running other software, on genuine TEE hardware)"
in_srv "$kcat" -l -p sim-demo 4434 >"$d/recv2" 2>"$d/srv2.err" &
spid=$!
sleep 1
echo "secret that must not leave the client" |
	in_cli "$kcat" --policy sim-demo 10.77.0.1 4434 2>"$d/cli2.err"
crc=$?
wait $spid
src=$?
echo "client (stderr), exit $crc:"
sed 's/^/  /' "$d/cli2.err"
echo "server (stderr), exit $src:"
sed 's/^/  /' "$d/srv2.err"
[ $crc -ne 0 ] || fail "client accepted a wrong measurement"
[ -s "$d/recv2" ] && fail "server received data"
echo "server received $(stat -c %s "$d/recv2") bytes"
echo "client agent log (last lines):"
tail -n 3 "$d/cli.log" | sed 's/^/  /'

say "Result"
if [ $bad -eq 0 ]; then
	echo "demo: attested transfer verified; wrong measurement failed closed"
else
	echo "demo: something did not behave as shown above"
fi
kill %2 %3 2>/dev/null
exit $bad
