#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/post/post.sh - post-handshake attestation (issue 14: policy
# "binding = post | both", RFC 9261 Exported Authenticators) on the real
# path: katls.ko, the simulated TSM provider, katlsd and katls-cat, in the
# 6.12 guest (tools/vm-check's e2e stage; by hand:
#	tools/katls-vm run --no-agent --smp 1 -- sh tests/e2e/post/post.sh).
# Both ends on this guest's loopback with one katlsd.  Prints TAP.
#
#  - binding post and both: the gate opens after the exchange, data moves
#    over kTLS both ways (sendfile one way, stdin the other), the kTLS
#    counters move, KATLS_RESULT says binding=L3;
#  - fail closed: a measurement the policy refuses (the post evidence is
#    judged), the server's policy naming another binding (both ways), an
#    authenticator for another request context and evidence bound to
#    another key, an authenticator replayed from another connection
#    (tests/e2e/post/rogue.c, a GnuTLS server that answers the request
#    wrongly), a server that skips the exchange: the client exits 1 and
#    nothing it sent reaches the peer;
#  - the independent implementation (ea_vectors.py, python3-cryptography)
#    builds an authenticator katlsd accepts, and verifies the one
#    katlsd's server sends.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/post/post-lib.sh
. "$here/post-lib.sh"
rogue=$top/tests/e2e/build/post-rogue

tap_plan_lazy
katls_e2e_agent "$d" katls-post debug
apid=$KATLS_AGENT_PID
# the policies of this test: sim-demo's pins with each binding
post_policy sim-post post
post_policy sim-both both
post_policy sim-post-wrong post '' "$d/policy.d/sim-wrong.policy"
post_reload
ok $? "katlsd loads the policies with binding post and both"

head -c 2000000 /dev/urandom >"$d/big"
head -c 150000 /dev/urandom >"$d/up"

# transfer BINDING PORT: sendfile server -> client, stdin client -> server
transfer() {
	b=$1
	post_transfer sim-$b $2 "binding $b"
	post_transfer_intact "binding $b"
	grep -qE "^katls-cat: verified: state=open evidence=sim binding=L3 measurement=$meas digest=[0-9a-f]{64} policy=sim-$b\$" "$d/c.err"
	ok $? "binding $b: the client's KATLS_RESULT says binding=L3"
	grep -q "^katls-cat: attested: state=open evidence=sim binding=L3" "$d/s.err"
	ok $? "binding $b: the server's KATLS_RESULT says binding=L3"
	post_transfer_moved "binding $b"
}
transfer post 9400
grep -q "post-handshake: authenticator and evidence verified (level 3)" "$d/katlsd.log" &&
	grep -q "post-handshake: authenticator with evidence sent" "$d/katlsd.log"
ok $? "katlsd logs the exchange on both sides"
transfer both 9402

# refused PORT SERVER-POLICY CLIENT-POLICY REASON-REGEX NAME
refused() {
	post_refused "$1" "$2" "$3"
	[ $crc -ne 0 ] && [ $src -ne 0 ] && [ ! -s "$d/s.out" ] &&
		grep -qE "$4" "$d/c.err" "$d/s.err"
	res=$?
	ok $res "$5: both ends fail closed, nothing delivered"
	[ $res -eq 0 ] || diag "$d/c.err" "$d/s.err"
}
refused 9404 sim-post sim-post-wrong 'status=EACCES' \
	"binding post, measurement the client's policy refuses"
grep -q "policy sim-post-wrong rejected the evidence" "$d/katlsd.log"
ok $? "binding post: the refusal names the policy (katlsd log)"
refused 9406 sim-demo sim-post 'status=E' \
	"client binding post, server policy intra"
grep -q "peer asked for binding post, policy sim-demo says intra" "$d/katlsd.log"
ok $? "binding mismatch: the server names it (katlsd log)"
refused 9408 sim-post sim-demo 'status=E' \
	"client binding intra, server policy post"

# A rogue attester: plain GnuTLS (no katls on its side) with its own
# configfs-tsm evidence, which answers the request wrongly.
# rogue_case MODE PORT NAME
rogue_case() {
	timeout 60 "$rogue" "$1" $2 "$d/cert.pem" "$d/key.pem" \
		>"$d/r.out" 2>"$d/r.err" &
	rpid=$!
	katls_wait_listen $2
	printf 'SECRET-THAT-MUST-NOT-ARRIVE\n' |
		timeout 60 "$kcat" -p sim-post 127.0.0.1 $2 >/dev/null \
		2>"$d/c.err"
	crc=$?
	wait $rpid
	rrc=$?
	[ $crc -eq 1 ] && grep -q 'status=EKEYREJECTED' "$d/c.err" &&
		! grep -q SECRET "$d/r.out" && [ $rrc -eq 0 ]
	res=$?
	ok $res "$3: the client fails closed (EKEYREJECTED), nothing reaches the rogue"
	[ $res -eq 0 ] || { echo "# client $crc, rogue $rrc"; diag "$d/c.err" "$d/r.err" "$d/r.out"; }
}
if [ -x "$rogue" ]; then
	# the control: answered correctly, the rogue passes (so the cases
	# below fail for their one difference, not for the rogue itself)
	timeout 60 "$rogue" good 9410 "$d/cert.pem" "$d/key.pem" \
		>"$d/r.out" 2>"$d/r.err" &
	rpid=$!
	katls_wait_listen 9410
	printf 'SECRET-FOR-THE-CONTROL\n' |
		timeout 60 "$kcat" -p sim-post 127.0.0.1 9410 >/dev/null \
		2>"$d/c.err"
	crc=$?
	wait $rpid
	rrc=$?
	[ $crc -eq 0 ] && [ $rrc -eq 0 ] && grep -q SECRET-FOR-THE-CONTROL "$d/r.out" &&
		grep -q "binding=L3" "$d/c.err"
	res=$?
	ok $res "control: a correct plain-GnuTLS attester passes, the data reaches it over kTLS"
	[ $res -eq 0 ] || { echo "# client $crc, rogue $rrc"; diag "$d/c.err" "$d/r.err"; }
	rogue_case context 9412 "authenticator for another request context"
	rogue_case key 9414 "evidence bound to another key"
	rogue_case replay 9416 "authenticator replayed from another connection"
	# a server that accepts binding post, then skips the exchange
	timeout 60 "$rogue" skip 9422 "$d/cert.pem" "$d/key.pem" \
		>"$d/r.out" 2>"$d/r.err" &
	rpid=$!
	katls_wait_listen 9422
	printf 'SECRET-THAT-MUST-NOT-ARRIVE\n' |
		timeout 60 "$kcat" -p sim-post 127.0.0.1 9422 >"$d/c.out" \
		2>"$d/c.err"
	crc=$?
	wait $rpid
	[ $crc -eq 1 ] && grep -q 'status=EPROTO' "$d/c.err" &&
		! grep -q SECRET "$d/r.out" && ! grep -q PLAINTEXT "$d/c.out" &&
		grep -q "expected a katls authenticator frame" "$d/katlsd.log"
	res=$?
	ok $res "a server that skips the exchange: the client fails closed (EPROTO), its data never leaves, the server's bytes never reach the application"
	[ $res -eq 0 ] || diag "$d/c.err" "$d/r.err"
	# issue 14 item 5: the independent implementation on the real path
	py=$top/tests/unit/attest/ea_vectors.py
	timeout 150 "$rogue" python 9418 "$d/cert.pem" "$d/key.pem" "$py" \
		>"$d/r.out" 2>"$d/r.err" &
	rpid=$!
	katls_wait_listen 9418
	# python3 and its cryptography module start slowly in the emulated
	# guest: a 100 s handshake deadline
	printf 'SECRET-FOR-PYTHON\n' |
		timeout 150 "$kcat" -t 100000 -p sim-post 127.0.0.1 9418 \
		>/dev/null 2>"$d/c.err"
	crc=$?
	wait $rpid
	rrc=$?
	[ $crc -eq 0 ] && [ $rrc -eq 0 ] && grep -q SECRET-FOR-PYTHON "$d/r.out" &&
		grep -q "binding=L3" "$d/c.err"
	res=$?
	ok $res "katlsd accepts an authenticator built by python3-cryptography (ea_vectors.py --answer)"
	[ $res -eq 0 ] || { echo "# client $crc, rogue $rrc"; diag "$d/c.err" "$d/r.err"; }
	timeout 150 "$kcat" -l -t 100000 -p sim-post --sendfile "$d/up" 9420 \
		</dev/null \
		>/dev/null 2>"$d/s.err" &
	spid=$!
	katls_wait_listen 9420
	timeout 150 "$rogue" pyclient 9420 "$d/cert.pem" "$d/key.pem" "$py" \
		>"$d/r.out" 2>"$d/r.err"
	rrc=$?
	wait $spid
	src=$?
	[ $rrc -eq 0 ] && [ $src -eq 0 ] &&
		grep -q "^ok - python3-cryptography verifies katlsd's authenticator" "$d/r.out" &&
		grep -q "^katls-cat: attested: state=open evidence=sim binding=L3" "$d/s.err" &&
		tail -c "$(stat -c %s "$d/up")" "$d/r.out" | cmp -s - "$d/up"
	res=$?
	ok $res "python3-cryptography verifies the authenticator katlsd's server sent (ea_vectors.py --verify), then its sendfile data arrives intact"
	[ $res -eq 0 ] || { echo "# server $src, rogue $rrc"; diag "$d/s.err" "$d/r.err" "$d/r.out"; }
else
	ok 1 "rogue attester $rogue built"
fi

tap_done
rc=$?
post_stop_agent
exit $rc
