#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/unit/cli/test-cli.sh BINDIR DATADIR - katls-cat and katlsctl as
# programs, on the host (no katls module): usage and exit codes, the
# errors a missing module produces, katlsctl stat on a sample file, and
# katls-cat's copy loop (stdin, sendfile, half-close) through
# katls-cat-mock, a test build whose katls socket options are scripted
# (tests/unit/cli/mock-katls.c).  Prints TAP.
set -u
bin=$1
data=$2
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

. "$(dirname "$0")/../../lib/tap.sh"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait until something listens on TCP port $1 (IPv4 or IPv6), up to 10 s.
wait_listen() {
	local hex i
	hex=$(printf '%04X' "$1")
	for i in $(seq 100); do
		if grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A" \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

module=0
if [ -e /proc/net/katls_stat ] || [ -e /sys/module/katls ]; then
	module=1
fi

tap_plan_lazy

# --- usage and exit codes ---
timeout 60 "$bin/katls-cat" --help >"$tmp/out" 2>&1
check "katls-cat --help: exit 0" [ $? -eq 0 ]
check "katls-cat --help: prints usage" grep -q '^Usage: katls-cat' "$tmp/out"
timeout 60 "$bin/katls-cat" >/dev/null 2>"$tmp/err"
check "katls-cat without operands: exit 2" [ $? -eq 2 ]
timeout 60 "$bin/katls-cat" --policy 'bad/name' h 1 2>"$tmp/err"
rc=$?
check "katls-cat bad policy: exit 2 with a message" \
	[ $rc -eq 2 -a -s "$tmp/err" ]
"$bin/katlsctl" frob >/dev/null 2>&1
check "katlsctl unknown command: exit 2" [ $? -eq 2 ]
"$bin/katlsctl" --help | grep -q '^Usage: katlsctl'
check "katlsctl --help" [ $? -eq 0 ]

# --- katlsctl stat ---
"$bin/katlsctl" --stat-file "$data/katls_stat.sample" stat >"$tmp/out"
check "katlsctl stat on the sample: exit 0" [ $? -eq 0 ]
check "katlsctl stat: aligned \"verified  12\" line" \
	grep -qx 'verified         12' "$tmp/out"
check "katlsctl stat: one line per counter" [ "$(wc -l <"$tmp/out")" -eq 13 ]
"$bin/katlsctl" stat --json --stat-file "$data/katls_stat.sample" >"$tmp/out"
check "katlsctl stat --json (options after the command)" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["verified"] == 12 and len(d) == 13 else 1)' "$tmp/out"
printf 'pending 1\ngarbage\n' >"$tmp/bad"
"$bin/katlsctl" --stat-file "$tmp/bad" stat >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q 'line 2' "$tmp/err"
ok $? "katlsctl stat on a malformed file: exit 1, line named"
"$bin/katlsctl" --stat-file "$tmp/absent" stat >/dev/null 2>"$tmp/err"
rc=$?
check "katlsctl stat without the file: exit 1" [ $rc -eq 1 ]
check "katlsctl stat without the file: \"katls module not loaded\"" \
	grep -q 'katls module not loaded' "$tmp/err"

# --- no module on this host ---
# With the module loaded these checks cannot run here: that fails (a
# skip is never a pass).
if [ $module -eq 1 ]; then
	ok 1 "checks without the module: the katls module is loaded on this host (unload it)"
else
	"$bin/katlsctl" list >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && grep -q 'katls module not loaded' "$tmp/err"
	ok $? "katlsctl list without the module: exit 1, message"

	port=$(free_port)
	timeout 60 "$bin/katls-cat" -l -p sim-test "$port" </dev/null >"$tmp/s.out" \
		2>"$tmp/s.err" &
	spid=$!
	wait_listen "$port"
	timeout 60 "$bin/katls-cat" -p sim-test 127.0.0.1 "$port" </dev/null \
		>/dev/null 2>"$tmp/c.err"
	crc=$?
	wait $spid
	src=$?
	check "katls-cat client without the module: exit 1" [ $crc -eq 1 ]
	check "katls-cat client: says the module is not loaded" \
		grep -q 'module not loaded' "$tmp/c.err"
	check "katls-cat server without the module: exit 1" [ $src -eq 1 ]
	check "katls-cat server: says the module is not loaded" \
		grep -q 'module not loaded' "$tmp/s.err"
fi

port=$(free_port)
timeout 60 "$bin/katls-cat" 127.0.0.1 "$port" </dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q 'Connection refused' "$tmp/err"
ok $? "katls-cat to a closed port: exit 1, Connection refused"

# --- copy loop with the scripted socket options ---
mock=$bin/katls-cat-mock
head -c 1500000 /dev/urandom >"$tmp/up"
head -c 700000 /dev/urandom >"$tmp/down"

port=$(free_port)
KATLS_MOCK=open timeout 60 "$mock" -l -p sim-test "$port" <"$tmp/down" \
	>"$tmp/s.out" 2>"$tmp/s.err" &
spid=$!
wait_listen "$port"
KATLS_MOCK=open timeout 60 "$mock" -p sim-test localhost "$port" <"$tmp/up" \
	>"$tmp/c.out" 2>"$tmp/c.err"
crc=$?
wait $spid
src=$?
check "bidirectional copy: both exit 0" [ $crc -eq 0 -a $src -eq 0 ]
check "bidirectional copy: client -> server intact" cmp -s "$tmp/up" "$tmp/s.out"
check "bidirectional copy: server -> client intact" cmp -s "$tmp/down" "$tmp/c.out"
check "client prints the verified summary" \
	grep -q '^katls-cat: verified: state=open evidence=sim binding=L2 measurement=1111.* policy=sim-test$' "$tmp/c.err"
check "server prints the attested summary" \
	grep -q '^katls-cat: attested: state=open evidence=sim' "$tmp/s.err"
[ $crc -eq 0 ] || diag "$tmp/c.err"
[ $src -eq 0 ] || diag "$tmp/s.err"

# Half-close: the client's stdin ends at once; the server answers later.
port=$(free_port)
(sleep 0.5; echo late reply) | KATLS_MOCK=open timeout 60 "$mock" -q -l "$port" \
	>"$tmp/s.out" 2>"$tmp/s.err" &
spid=$!
wait_listen "$port"
KATLS_MOCK=open timeout 60 "$mock" -q 127.0.0.1 "$port" </dev/null >"$tmp/c.out" \
	2>"$tmp/c.err"
crc=$?
wait $spid
src=$?
[ $crc -eq 0 -a $src -eq 0 ] && grep -qx 'late reply' "$tmp/c.out"
ok $? "half-close: reply received after the client's EOF"
check "-q: no summary on stderr" [ ! -s "$tmp/c.err" ]

# sendfile(2) from the client, IPv6 if the host has it.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	fam=-6 addr=::1
else
	fam=-4 addr=127.0.0.1
fi
port=$(free_port)
KATLS_MOCK=open timeout 60 "$mock" -q -l $fam "$port" </dev/null >"$tmp/s.out" \
	2>"$tmp/s.err" &
spid=$!
wait_listen "$port"
KATLS_MOCK=open timeout 60 "$mock" -q $fam --sendfile "$tmp/up" "$addr" "$port" \
	</dev/null >/dev/null 2>"$tmp/c.err"
crc=$?
wait $spid
src=$?
check "--sendfile ($fam): both exit 0" [ $crc -eq 0 -a $src -eq 0 ]
check "--sendfile ($fam): file arrives intact" cmp -s "$tmp/up" "$tmp/s.out"
timeout 60 "$mock" --sendfile "$tmp/absent" 127.0.0.1 1 </dev/null 2>"$tmp/err"
check "--sendfile of a missing file: exit 1" [ $? -eq 1 ]

# Item 17: the end of the data is a close_notify, not a bare FIN.  Through
# trunc-relay.py: untouched, then cut short in each direction.
relay=$(dirname "$0")/../../lib/trunc-relay.py
# through_relay [RELAY-OPTIONS]: the mock server sends $tmp/down, the
# mock client $tmp/up, through trunc-relay.py; sets crc and src.
through_relay() {
	port=$(free_port)
	rport=$(free_port)
	KATLS_MOCK=open timeout 60 "$mock" -q -l --sendfile "$tmp/down" "$port" \
		</dev/null >"$tmp/s.out" 2>"$tmp/s.err" &
	spid=$!
	wait_listen "$port"
	timeout 60 python3 "$relay" "$@" "$rport" 127.0.0.1 "$port" \
		2>"$tmp/r.err" &
	rpid=$!
	wait_listen "$rport"
	KATLS_MOCK=open timeout 60 "$mock" -q 127.0.0.1 "$rport" <"$tmp/up" \
		>"$tmp/c.out" 2>"$tmp/c.err"
	crc=$?
	wait $spid
	src=$?
	wait $rpid
}

through_relay
[ $crc -eq 0 ] && [ $src -eq 0 ] && cmp -s "$tmp/down" "$tmp/c.out" &&
	cmp -s "$tmp/up" "$tmp/s.out"
ok $? "through a relay that does not cut: both exit 0, data intact"
[ $crc -eq 0 ] || diag "$tmp/c.err" "$tmp/r.err"

for dir in down up; do
	through_relay --dir $dir --cut 300007
	if [ $dir = down ]; then
		rc=$crc err=$tmp/c.err out=$tmp/c.out
	else
		rc=$src err=$tmp/s.err out=$tmp/s.out
	fi
	[ $rc -eq 1 ] && grep -q 'closed without TLS close_notify' "$err" &&
		[ "$(stat -c %s "$out")" -lt 300007 ]
	ok $? "relay cuts the $dir stream after 300007 bytes: the receiver exits 1, says so"
	[ $rc -eq 1 ] || diag "$err" "$tmp/r.err"
done

# Failed attestation: exit 1 with the errno's meaning and the result.
port=$(free_port)
KATLS_MOCK=open timeout 60 "$mock" -q -l "$port" </dev/null >/dev/null 2>&1 &
spid=$!
wait_listen "$port"
KATLS_MOCK=fail:129 timeout 60 "$mock" -p sim-test 127.0.0.1 "$port" </dev/null \
	>/dev/null 2>"$tmp/c.err"
crc=$?
wait $spid
check "rejected evidence: exit 1" [ $crc -eq 1 ]
check "rejected evidence: message says it was not bound" \
	grep -q "evidence not bound to this handshake" "$tmp/c.err"
check "rejected evidence: failed result printed" \
	grep -q 'result: state=failed status=EKEYREJECTED' "$tmp/c.err"

# Item 5: the host name is the expected peer name unless -n names another.
for pn in "" other.example; do
	port=$(free_port)
	KATLS_MOCK=open timeout 60 "$mock" -q -l "$port" </dev/null >/dev/null 2>&1 &
	spid=$!
	wait_listen "$port"
	KATLS_MOCK=open KATLS_MOCK_TRACE=1 timeout 60 "$mock" -q \
		${pn:+-n "$pn"} localhost "$port" </dev/null >/dev/null \
		2>"$tmp/c.err"
	crc=$?
	wait $spid
	want=${pn:-localhost}
	[ $crc -eq 0 ] && grep -qx "mock: request role=1 policy=default peername=$want" "$tmp/c.err"
	ok $? "client ${pn:+-n $pn }localhost: asks katlsd to check the name $want"
	[ $crc -eq 0 ] || diag "$tmp/c.err"
done

# EINVAL as a handshake status: the agent has no such policy.
port=$(free_port)
KATLS_MOCK=open timeout 60 "$mock" -q -l "$port" </dev/null >/dev/null 2>&1 &
spid=$!
wait_listen "$port"
KATLS_MOCK=fail:22 timeout 60 "$mock" -p nope 127.0.0.1 "$port" </dev/null \
	>/dev/null 2>"$tmp/c.err"
crc=$?
wait $spid
[ $crc -eq 1 ] && grep -q "policy unknown to katlsd" "$tmp/c.err"
ok $? "unknown policy (status EINVAL): exit 1, says so"

# --cert/--key: must be readable; the note says they are not used.
echo cert >"$tmp/c.pem"
echo key >"$tmp/k.pem"
port=$(free_port)
KATLS_MOCK=open timeout 60 "$mock" -l --cert "$tmp/c.pem" --key "$tmp/k.pem" "$port" \
	</dev/null >/dev/null 2>"$tmp/s.err" &
spid=$!
wait_listen "$port"
KATLS_MOCK=open timeout 60 "$mock" -q 127.0.0.1 "$port" </dev/null >/dev/null 2>&1
wait $spid
src=$?
[ $src -eq 0 ] && grep -q "katlsd presents its own" "$tmp/s.err"
ok $? "--cert/--key: server runs and notes katlsd's certificate"
timeout 60 "$mock" -l --cert "$tmp/absent" --key "$tmp/k.pem" 1 </dev/null 2>"$tmp/err"
check "--cert of a missing file: exit 1" [ $? -eq 1 ]

tap_done
