#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/run/run.sh - katls-run (issue 15, item 4) on the real path:
# katls.ko, the simulated TSM provider and katlsd in the 6.12 guest.
# Unmodified programs -- plain-tcp.c (plain socket calls, blocking and
# non-blocking, no katls, no TLS) and curl -- talk attested TLS through
# katls-run; data checked byte for byte, kTLS and katlsd counters and a
# capture checked; a rejecting policy, no agent, a static program, and
# the end of stream through the truncating relay (tests/lib/trunc-relay.py):
# close_notify -> end of stream, bare FIN -> ECONNRESET (both directions).
#	tools/katls-vm run --no-agent --smp 1 -- sh tests/e2e/run/run.sh
# (plain-tcp built by make -C tests/e2e; tools/vm-check runs it in the
# 6.12 e2e stage).  Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
. "$top/tests/lib/tap.sh"
run=$top/userspace/run/build/katls-run
plain=$top/tests/e2e/build/plain-tcp
ctl=$top/userspace/cli/build/katlsctl
relay=$top/tests/lib/trunc-relay.py
d=$(mktemp -d)

stat_of() { "$ctl" stat | awk -v k="$1" '$1 == k { print $2 }'; }
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }

tap_plan_lazy

head -c 100000 /dev/urandom >"$d/up"
printf 'KATLS-RUN-PLAINTEXT-MARKER\n' >>"$d/up"
head -c 1000000 /dev/urandom >"$d/down"
# The relay (Python, under TCG) copies slowly: less data through it.
head -c 300000 "$d/down" >"$d/down-small"
down=$d/down

# srv PORT [plain-tcp options]: the server under katls-run --server.
srv() {
	_p=$1
	shift
	rm -f "$d/s.out"
	timeout 90 "$run" --server --policy sim-demo -- "$plain" srv "$@" \
		$_p "$down" "$d/s.out" >"$d/s.log" 2>&1 &
	spid=$!
	katls_wait_listen $_p
}
# cli PORT POLICY [plain-tcp options]: the client under katls-run; crc.
cli() {
	_p=$1 _pol=$2
	shift 2
	rm -f "$d/c.out"
	timeout 90 "$run" --policy $_pol -- "$plain" cli "$@" 127.0.0.1 $_p \
		"$d/up" "$d/c.out" >"$d/c.log" 2>&1
	crc=$?
}
# Both ends' logs (and the relay's) as diagnostics.
logs() { diag "$d/c.log" "$d/s.log" ${1:+"$1"}; }
intact() { cmp -s "$d/up" "$d/s.out" && cmp -s "$down" "$d/c.out"; }

# --- a program the shim cannot reach is not run ---
"$run" -- /bin/busybox true >"$d/c.log" 2>&1
[ $? -eq 125 ] && grep -q 'statically linked' "$d/c.log"
ok_diag $? "static busybox refused: exit 125, never plain TCP" "$d/c.log"

# --- no agent: ESRCH, no byte ---
srv 9200
cli 9200 sim-demo
wait $spid
src=$?
[ $crc -eq 1 ] && [ $src -eq 1 ] &&
	grep -q 'no katls agent (katlsd) is running' "$d/c.log" "$d/s.log" &&
	[ ! -s "$d/s.out" ] && [ ! -s "$d/c.out" ]
ok $? "no katlsd: both programs fail (client: $(sed -n 's/^plain-tcp: //p' "$d/c.log"), server: $(sed -n 's/^plain-tcp: //p' "$d/s.log")), ESRCH's meaning printed, no byte"
[ $? -eq 0 ] || logs

katls_e2e_agent "$d" katls-run info
apid=$KATLS_AGENT_PID

# --- blocking programs, with a capture and the counters ---
tcpdump --immediate-mode -B 32768 -Z root -i lo -U -w "$d/cap.pcap" \
	tcp port 9201 2>"$d/tcpdump.err" &
tpid=$!
katls_wait_for listening "$d/tcpdump.err"
verified0=$(stat_of verified)
tx0=$(tls_stat TlsTxSw)
rx0=$(tls_stat TlsRxSw)
srv 9201
cli 9201 sim-demo
wait $spid
src=$?
[ $crc -eq 0 ] && [ $src -eq 0 ]
ok $? "blocking client and server: both exit 0 (each read its peer's close_notify as end of stream)"
[ $crc -eq 0 ] && [ $src -eq 0 ] || logs
intact
ok $? "blocking: 100 kB up and 1 MB down intact"
katls_wait_size "$d/cap.pcap" 1100000	# tcpdump still writing out
sleep 1
kill -INT $tpid
wait $tpid
grep -q '^0 packets dropped by kernel' "$d/tcpdump.err" &&
	[ "$(stat -c %s "$d/cap.pcap")" -gt 1100000 ] &&
	! grep -q KATLS-RUN-PLAINTEXT-MARKER "$d/cap.pcap"
ok $? "complete capture ($(stat -c %s "$d/cap.pcap") bytes) holds no plaintext marker"
[ "$(tls_stat TlsTxSw)" -ge $((tx0 + 2)) ] &&
	[ "$(tls_stat TlsRxSw)" -ge $((rx0 + 2)) ]
ok $? "kTLS TX/RX counters moved (TX $tx0 -> $(tls_stat TlsTxSw), RX $rx0 -> $(tls_stat TlsRxSw))"
[ "$(stat_of verified)" -ge $((verified0 + 2)) ]
ok $? "katlsctl stat: both ends verified"

# --- non-blocking programs ---
srv 9202 -n
cli 9202 sim-demo -n
wait $spid
src=$?
[ $crc -eq 0 ] && [ $src -eq 0 ] && intact
ok $? "non-blocking client and server: both exit 0, data intact"
[ $crc -eq 0 ] && [ $src -eq 0 ] || logs

# --- a forking server: the parent's close() of its copy must not end the
# child's stream (no close_notify while another process holds the socket)
srv 9207 -f
cli 9207 sim-demo
wait $spid
src=$?
[ $crc -eq 0 ] && [ $src -eq 0 ] && intact
ok $? "forking server (parent closes its copy first): both exit 0, data intact"
[ $crc -eq 0 ] && [ $src -eq 0 ] || logs

# --- curl, an unmodified program from Debian ---
srv 9203 -H
rm -f "$d/c.out"
timeout 90 "$run" -p sim-demo -- curl -s -S -o "$d/c.out" \
	http://127.0.0.1:9203/model >"$d/c.log" 2>&1
crc=$?
wait $spid
src=$?
[ $crc -eq 0 ] && [ $src -eq 0 ] && cmp -s "$d/down" "$d/c.out" &&
	grep -q '^GET /model HTTP/1.1' "$d/s.out"
ok $? "curl under katls-run: 1 MB response intact, request received"
[ $crc -eq 0 ] || logs

# --- a policy that rejects the server: no byte, an error ---
srv 9204
cli 9204 sim-wrong
wait $spid
src=$?
[ $crc -eq 1 ] && grep -q '^plain-tcp: connect: EACCES' "$d/c.log" &&
	grep -q 'failing closed' "$d/c.log"
ok $? "rejecting policy, blocking: connect() fails with EACCES and the shim says why"
[ $crc -eq 1 ] || logs
[ $src -eq 1 ] && [ ! -s "$d/s.out" ] && [ ! -s "$d/c.out" ]
ok $? "rejecting policy: the server's accept() fails ($(sed -n 's/^plain-tcp: //p' "$d/s.log")), no byte either way"
srv 9205 -n
cli 9205 sim-wrong -n
wait $spid
[ $crc -eq 1 ] && grep -q '^plain-tcp: connect (SO_ERROR)\|^plain-tcp: write\|^plain-tcp: poll' "$d/c.log" &&
	[ ! -s "$d/s.out" ] && [ ! -s "$d/c.out" ]
ok $? "rejecting policy, non-blocking: $(sed -n 's/^plain-tcp: //p' "$d/c.log"), no byte"
[ $crc -eq 1 ] || logs
# --- the end of stream through the truncating relay ---
# via PORT RELAY-OPTIONS: server on PORT, relay on PORT+1, client to it.
via() {
	srv $1
	timeout 90 python3 "$relay" $2 $(($1 + 1)) 127.0.0.1 $1 2>"$d/r.log" &
	rpid=$!
	katls_wait_listen $(($1 + 1))
	cli $(($1 + 1)) sim-demo
	wait $spid
	src=$?
	wait $rpid
}
down=$d/down-small
via 9210 ""
[ $crc -eq 0 ] && [ $src -eq 0 ] && intact
ok $? "through a relay that does not cut: both exit 0, data intact"
[ $crc -eq 0 ] && [ $src -eq 0 ] || logs "$d/r.log"
via 9212 "--records --cut 100000"
[ $crc -eq 1 ] && grep -q '^plain-tcp: recv: ECONNRESET' "$d/c.log" &&
	grep -q 'possible truncation' "$d/c.log" &&
	[ "$(stat -c %s "$d/c.out")" -lt 300000 ]
ok $? "server's data cut after whole records (bare FIN): the client's recv() fails ECONNRESET after $(stat -c %s "$d/c.out") of 300000 bytes"
[ $crc -eq 1 ] || logs "$d/r.log"
via 9216 "--dir up --records --cut 50000"
[ $src -eq 1 ] && grep -q '^plain-tcp: read: ECONNRESET' "$d/s.log" &&
	[ "$(stat -c %s "$d/s.out")" -lt "$(stat -c %s "$d/up")" ]
ok $? "client's data cut (bare FIN): the server's read() fails ECONNRESET after $(stat -c %s "$d/s.out") bytes"
[ $src -eq 1 ] || logs "$d/r.log"

kill $apid 2>/dev/null
wait $apid 2>/dev/null
if [ $tap_failed -ne 0 ]; then
	sed 's/^/# katlsd: /' "$d/katlsd.log"
fi
rm -rf "$d"
tap_done
