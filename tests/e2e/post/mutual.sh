#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/post/mutual.sh - mutual attestation (issue 14 item 3: policy
# "require_client_evidence", the client's RFC 9261 Exported Authenticator
# with evidence from configfs-tsm) on the real path: katls.ko, the
# simulated TSM provider, katlsd and katls-cat, in the 6.12 guest
# (tools/vm-check's e2e stage; by hand:
#	tools/katls-vm run --no-agent --smp 1 -- sh tests/e2e/post/mutual.sh).
# Both ends on this guest's loopback with one katlsd, so the client's
# evidence comes from the same simulated provider as the server's.
# Prints TAP.
#
#  - success, binding intra (the server's evidence in the handshake, the
#    client's after it) and binding post (both directions Exported
#    Authenticators): both directions required at once; the server's
#    application sees the client's evidence summary in KATLS_RESULT
#    (client_evidence=sim client_binding=L3, measurement, policy), the
#    client's its own; then data over kTLS both ways (sendfile, stdin)
#    and the kTLS counters move;
#  - fail closed: a client whose policy does not consent to attest (it
#    sends the empty authenticator), a client whose evidence fails the
#    server's require_client_evidence policy, a server whose policy names
#    a client policy that is not loaded (the reload refuses the set):
#    nothing the client sent reaches the server's application.  (A client
#    that cannot attest, without a TEE provider, needs a guest without
#    the provider the server uses too: it is in the host unit test
#    tests/unit/katlsd/test_handshake.c, "mutual: client without a TEE
#    provider", through the privilege-separated sandbox as well.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
kcat=$top/userspace/cli/build/katls-cat
ctl=$top/userspace/cli/build/katlsctl
d=$(mktemp -d)
. "$top/tests/lib/tap.sh"

stat_of() { "$ctl" stat | awk -v k="$1" '$1 == k { print $2 }'; }
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }
meas=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f

tap_plan_lazy
katls_e2e_agent "$d" katls-mutual debug
apid=$KATLS_AGENT_PID

# policy NAME BINDING EXTRA-LINES: sim-demo's pins under another name
policy() {
	sed -e "s/^name sim-demo/name $1/" "$d/policy.d/sim-demo.policy" \
		>"$d/policy.d/$1.policy"
	echo "binding $2" >>"$d/policy.d/$1.policy"
	printf '%b' "$3" >>"$d/policy.d/$1.policy"
}
# both ends use sim-mtl-*: the server requires the client's evidence
# (judged by sim-demo), the client consents
policy sim-mtl-intra intra 'require_client_evidence = sim-demo\nclient_attest allow\n'
policy sim-mtl-post post 'require_client_evidence = sim-demo\nclient_attest allow\n'
# a client that does not consent (client_attest deny is the default)
policy sim-noc intra ''
# a server whose client policy pins a measurement the provider never has
policy sim-mtl-wrong intra 'require_client_evidence sim-wrong\n'

# reload: 0 if katlsd took the new set, 1 if it kept the old one
reload() {
	pat='configuration and policies reloaded|reload failed'
	n=$(grep -cE "$pat" "$d/katlsd.log")
	kill -HUP $apid
	i=0
	while [ "$(grep -cE "$pat" "$d/katlsd.log")" = "$n" ] && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	grep -E "$pat" "$d/katlsd.log" | tail -n 1 | grep -q "policies reloaded"
}
reload
ok $? "katlsd loads the policies with require_client_evidence and client_attest"

head -c 2000000 /dev/urandom >"$d/big"
head -c 150000 /dev/urandom >"$d/up"

# mutual BINDING PORT: sendfile server -> client, stdin client -> server
mutual() {
	b=$1 port=$2
	verified0=$(stat_of verified)
	tx0=$(tls_stat TlsTxSw)
	rx0=$(tls_stat TlsRxSw)
	timeout 120 "$kcat" -l -p sim-mtl-$b --sendfile "$d/big" $port \
		</dev/null >"$d/s.out" 2>"$d/s.err" &
	spid=$!
	katls_wait_listen $port
	timeout 120 "$kcat" -p sim-mtl-$b 127.0.0.1 $port <"$d/up" \
		>"$d/c.out" 2>"$d/c.err"
	crc=$?
	wait $spid
	src=$?
	[ $crc -eq 0 ] && [ $src -eq 0 ]
	res=$?
	ok $res "mutual, binding $b: both ends exit 0 (both directions attested)"
	[ $res -eq 0 ] || diag "$d/c.err" "$d/s.err"
	grep -qE "^katls-cat: attested: state=open evidence=sim binding=L[23] .* client_evidence=sim client_binding=L3 client_measurement=$meas client_digest=[0-9a-f]{64} client_policy=sim-demo\$" "$d/s.err"
	ok $? "mutual, binding $b: the server's KATLS_RESULT carries the client's evidence summary (sim, L3, measurement, judged by sim-demo)"
	grep -qE "^katls-cat: verified: state=open evidence=sim binding=L[23] measurement=$meas digest=[0-9a-f]{64} policy=sim-mtl-$b client_evidence=sim client_binding=L3 client_measurement=$meas client_digest=[0-9a-f]{64} client_policy=sim-mtl-$b\$" "$d/c.err"
	ok $? "mutual, binding $b: the client's KATLS_RESULT: the server's evidence and its own"
	sd=$(sed -n 's/.* client_digest=\([0-9a-f]*\).*/\1/p' "$d/s.err")
	cd_=$(sed -n 's/.* client_digest=\([0-9a-f]*\).*/\1/p' "$d/c.err")
	[ -n "$sd" ] && [ "$sd" = "$cd_" ]
	ok $? "mutual, binding $b: both ends name the same client evidence digest"
	cmp -s "$d/big" "$d/c.out"
	ok $? "mutual, binding $b: sendfile(2) server -> client over kTLS, 2 MB intact"
	cmp -s "$d/up" "$d/s.out"
	ok $? "mutual, binding $b: client -> server, 150 kB intact"
	[ "$(tls_stat TlsTxSw)" -ge $((tx0 + 2)) ] &&
		[ "$(tls_stat TlsRxSw)" -ge $((rx0 + 2)) ]
	ok $? "mutual, binding $b: kTLS TX and RX counters moved (TX $tx0 -> $(tls_stat TlsTxSw), RX $rx0 -> $(tls_stat TlsRxSw))"
	[ "$(stat_of verified)" -ge $((verified0 + 2)) ]
	ok $? "mutual, binding $b: katlsctl stat: verified counted both ends"
}
mutual intra 9440
mutual post 9442
grep -q "mutual attestation: the client's authenticator and evidence verified (level 3, policy sim-demo)" "$d/katlsd.log" &&
	grep -q "mutual attestation: our evidence was accepted by the server" "$d/katlsd.log"
ok $? "katlsd logs the client's direction on both sides"

# refused PORT SERVER-POLICY CLIENT-POLICY LOG-REGEX NAME
# The server decides, so its KATLS_RESULT names the reason (EACCES); the
# client fails closed too, with its own status or, when the server's
# reset overtakes its DONE, ECONNRESET (katlsd.rst, "Alerts").
refused() {
	timeout 60 "$kcat" -l -p $2 $1 </dev/null >"$d/s.out" 2>"$d/s.err" &
	spid=$!
	katls_wait_listen $1
	printf 'SECRET-THAT-MUST-NOT-ARRIVE\n' |
		timeout 60 "$kcat" -p $3 127.0.0.1 $1 >/dev/null 2>"$d/c.err"
	crc=$?
	wait $spid
	src=$?
	[ $crc -ne 0 ] && [ $src -ne 0 ] && [ ! -s "$d/s.out" ] &&
		grep -q "result: state=failed status=EACCES" "$d/s.err" &&
		grep -q "result: state=failed status=E" "$d/c.err"
	res=$?
	ok $res "$5: the server fails closed (EACCES), so does the client, nothing delivered"
	[ $res -eq 0 ] || diag "$d/c.err" "$d/s.err"
	grep -qE "$4" "$d/katlsd.log"
	ok $? "$5: katlsd names the reason"
}
refused 9444 sim-mtl-intra sim-noc \
	"the client refused to attest \\(empty authenticator\\)" \
	"a client whose policy does not consent to attest"
grep -q "our policy does not consent to attest (client_attest deny)" "$d/katlsd.log"
ok $? "the client says why it refused (katlsd log)"
refused 9446 sim-mtl-wrong sim-mtl-intra \
	"policy sim-wrong rejected the client's evidence" \
	"the client's evidence fails the server's require_client_evidence policy"

# a server policy naming a client policy that is not loaded: refused
policy sim-mtl-ghost intra 'require_client_evidence sim-ghost\n'
reload
rc=$?
[ $rc -ne 0 ] && grep "reload failed" "$d/katlsd.log" | tail -n 1 |
	grep -q 'require_client_evidence: no policy "sim-ghost"'
ok $? "a policy naming a client policy that is not loaded: the reload is refused, the old set stays"
rm -f "$d/policy.d/sim-mtl-ghost.policy"

tap_done
rc=$?
kill -TERM $apid
wait $apid
sed 's/^/# katlsd: /' "$d/katlsd.log"
exit $rc
