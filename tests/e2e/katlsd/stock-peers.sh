#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/katlsd/stock-peers.sh DIR - stock TLS peers meet katlsd
# (issue 11 item 20), in the 6.12 guest, run by e2e.sh with its katlsd
# running (log in DIR/katlsd.log, identity DIR/cert.pem, DIR/key.pem).
#
#   1. gnutls-cli (and openssl s_client), which do not ask for
#      attestation, connect to a katls server (katls-cat -l): they must
#      receive the TLS alert missing_extension before the connection is
#      reset, and no application byte may pass;
#   2. a katls client (katls-cat) connects to gnutls-serv: the stock
#      server must receive missing_extension the same way.
#
# Each exchange is captured on lo; the capture must show the alert
# record on the wire before any reset.  Prints TAP lines (no plan; e2e.sh
# numbers them).
set -u
d=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
kcat=$top/userspace/cli/build/katls-cat
. "$top/tests/lib/tap.sh"
t=$(mktemp -d)

capture() {	# PORT FILE: start tcpdump on lo, sets tpid
	tcpdump --immediate-mode -B 4096 -Z root -i lo -U -w "$2" \
		tcp port "$1" 2>"$2.err" &
	tpid=$!
	katls_wait_for listening "$2.err"
}

stop_capture() {
	sleep 1.5	# what tcpdump captured reaches the file
	kill -INT $tpid
	wait $tpid
}

# alert_before_reset PCAP PORT MODE: the katls side's alert reaches the
# wire before any reset from the katls side.  MODE plain: the katls side
# is the server on PORT, and its alert is a plaintext record (type 21,
# fatal, missing_extension = 109).  MODE encrypted: the katls side is the
# client of the server on PORT; TLS 1.3 hides the record type, so the
# alert is a record the client sends after the server's first flight
# (the stock server's own report shows its content).  Prints what it saw.
alert_before_reset() {
	python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
path, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, 'rb').read()
magic = struct.unpack('<I', data[:4])[0]
end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
link = struct.unpack(end + 'I', data[20:24])[0]
off, n, pkts = 24, 0, []
while off + 16 <= len(data):
    incl = struct.unpack(end + 'I', data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    n += 1
    if link == 1:
        eth, pkt = struct.unpack('>H', pkt[12:14])[0], pkt[14:]
    elif link == 113:
        eth, pkt = struct.unpack('>H', pkt[14:16])[0], pkt[16:]
    else:
        sys.exit('link type %d' % link)
    if eth == 0x0800:
        tcp = pkt[(pkt[0] & 15) * 4:]
    elif eth == 0x86dd:
        tcp = pkt[40:]
    else:
        continue
    sport = struct.unpack('>H', tcp[0:2])[0]
    # the katls side: the server on PORT (plain) or its client (encrypted)
    katls = (sport == port) == (mode == 'plain')
    pkts.append((n, katls, tcp[13], tcp[(tcp[12] >> 4) * 4:]))
rst = next((n for n, k, f, p in pkts if k and f & 4), None)
if mode == 'plain':
    alert = next((n for n, k, f, p in pkts
                  if k and b'\x15\x03\x03\x00\x02\x02\x6d' in p), None)
else:
    flight = next((n for n, k, f, p in pkts if not k and p), None)
    def types(p):       # record types in a segment (records aligned)
        out = []
        while len(p) >= 5:
            out.append(p[0])
            p = p[5 + struct.unpack('>H', p[3:5])[0]:]
        return out
    alert = next((n for n, k, f, p in pkts
                  if k and p and flight and n > flight and
                  set(types(p)) & {0x15, 0x17}), None)
print('packets: ' + ' '.join('%d:%s%s%s' % (n, 'K' if k else 'P',
      'R' if f & 4 else '', len(p)) for n, k, f, p in pkts))
print('alert in packet %s, first reset from the katls side in packet %s'
      % (alert, rst))
sys.exit(0 if alert and (rst is None or alert < rst) else 1)
PY
}

# capture_check PCAP PORT MODE NAME: one point on alert_before_reset,
# what it saw as diagnostics.
capture_check() {
	alert_before_reset "$1" "$2" "$3" >"$t/cap.txt" 2>&1
	ok $? "$4"
	diag "$t/cap.txt"
}

# ---- 1. gnutls-cli -> katls server ----
port=9300
capture $port "$t/s.pcap"
timeout 60 "$kcat" -l -p sim-demo 127.0.0.1 $port </dev/null >"$t/s.out" \
	2>"$t/s.err" &
spid=$!
katls_wait_listen $port
echo "application data that must not pass" |
	timeout 30 gnutls-cli --insecure -p $port 127.0.0.1 >"$t/cli.out" 2>&1
crc=$?
wait $spid
src=$?
stop_capture
grep -q 'Received alert \[109\]' "$t/cli.out"
ok_diag $? "gnutls-cli without attestation: receives alert 109 (missing extension) from the katls server" "$t/cli.out"
[ $crc -ne 0 ] && [ $src -eq 1 ] && grep -q 'status=EPROTO' "$t/s.err" &&
	[ ! -s "$t/s.out" ]
ok_diag $? "gnutls-cli without attestation: katls server fails closed (EPROTO), no byte delivered" "$t/s.err"
grep -q 'peer did not ask for attestation' "$d/katlsd.log"
ok $? "gnutls-cli without attestation: katlsd names the cause"
capture_check "$t/s.pcap" $port plain \
	"gnutls-cli without attestation: the capture shows the alert on the wire before any reset"

# ---- 1b. openssl s_client -> katls server ----
port=9302
timeout 60 "$kcat" -l -p sim-demo 127.0.0.1 $port </dev/null >"$t/s.out" \
	2>"$t/s.err" &
spid=$!
katls_wait_listen $port
echo "application data that must not pass" |
	timeout 30 openssl s_client -connect 127.0.0.1:$port >"$t/ossl.out" 2>&1
wait $spid
src=$?
grep -q 'alert number 109' "$t/ossl.out" && [ $src -eq 1 ] && [ ! -s "$t/s.out" ]
ok_diag $? "openssl s_client without attestation: receives alert 109 (missing extension), nothing delivered" "$t/ossl.out" "$t/s.err"

# ---- 2. katls client -> gnutls-serv ----
port=9301
capture $port "$t/c.pcap"
stdbuf -oL -eL gnutls-serv --x509certfile "$d/cert.pem" \
	--x509keyfile "$d/key.pem" -p $port >"$t/serv.out" 2>&1 &
gpid=$!
katls_wait_listen $port
echo "secret that must not leave the client" |
	timeout 60 "$kcat" -p sim-demo 127.0.0.1 $port >"$t/c.out" \
	2>"$t/c.err"
crc=$?
katls_wait_for "Received alert" "$t/serv.out"	# up to 20 s
kill $gpid
wait $gpid 2>/dev/null
stop_capture
grep -q "Received alert '109'" "$t/serv.out"
ok_diag $? "katls client meets gnutls-serv: the stock server receives alert 109 (missing extension)" "$t/serv.out"
[ $crc -eq 1 ] && grep -q 'status=EACCES' "$t/c.err" &&
	! grep -q 'must not leave' "$t/serv.out"
ok_diag $? "katls client meets gnutls-serv: client fails closed (EACCES), nothing sent" "$t/c.err"
grep -q 'server sent no evidence (no katls extension' "$d/katlsd.log"
ok $? "katls client meets gnutls-serv: katlsd names the cause"
capture_check "$t/c.pcap" $port encrypted \
	"katls client meets gnutls-serv: the capture shows its alert on the wire before any reset"

rm -rf "$t"
tap_done
