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
# shellcheck source=tests/e2e/post/post-lib.sh
. "$here/post-lib.sh"

tap_plan_lazy
katls_e2e_agent "$d" katls-mutual debug
apid=$KATLS_AGENT_PID

# the policies of this test: sim-demo's pins under other names
# (post_policy NAME BINDING EXTRA-LINES)
# both ends use sim-mtl-*: the server requires the client's evidence
# (judged by sim-demo), the client consents
post_policy sim-mtl-intra intra 'require_client_evidence = sim-demo\nclient_attest allow\n'
post_policy sim-mtl-post post 'require_client_evidence = sim-demo\nclient_attest allow\n'
# a client that does not consent (client_attest deny is the default)
post_policy sim-noc intra ''
# a server whose client policy pins a measurement the provider never has
post_policy sim-mtl-wrong intra 'require_client_evidence sim-wrong\n'

post_reload
ok $? "katlsd loads the policies with require_client_evidence and client_attest"

head -c 2000000 /dev/urandom >"$d/big"
head -c 150000 /dev/urandom >"$d/up"

# mutual BINDING PORT: sendfile server -> client, stdin client -> server
mutual() {
	b=$1
	post_transfer sim-mtl-$b $2 "mutual, binding $b" \
		" (both directions attested)"
	grep -qE "^katls-cat: attested: state=open evidence=sim binding=L[23] .* client_evidence=sim client_binding=L3 client_measurement=$meas client_digest=[0-9a-f]{64} client_policy=sim-demo\$" "$d/s.err"
	ok $? "mutual, binding $b: the server's KATLS_RESULT carries the client's evidence summary (sim, L3, measurement, judged by sim-demo)"
	grep -qE "^katls-cat: verified: state=open evidence=sim binding=L[23] measurement=$meas digest=[0-9a-f]{64} policy=sim-mtl-$b client_evidence=sim client_binding=L3 client_measurement=$meas client_digest=[0-9a-f]{64} client_policy=sim-mtl-$b\$" "$d/c.err"
	ok $? "mutual, binding $b: the client's KATLS_RESULT: the server's evidence and its own"
	sd=$(sed -n 's/.* client_digest=\([0-9a-f]*\).*/\1/p' "$d/s.err")
	cd_=$(sed -n 's/.* client_digest=\([0-9a-f]*\).*/\1/p' "$d/c.err")
	[ -n "$sd" ] && [ "$sd" = "$cd_" ]
	ok $? "mutual, binding $b: both ends name the same client evidence digest"
	post_transfer_intact "mutual, binding $b"
	post_transfer_moved "mutual, binding $b"
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
	post_refused "$1" "$2" "$3"
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
post_policy sim-mtl-ghost intra 'require_client_evidence sim-ghost\n'
post_reload
rc=$?
[ $rc -ne 0 ] && grep "reload failed" "$d/katlsd.log" | tail -n 1 |
	grep -q 'require_client_evidence: no policy "sim-ghost"'
ok $? "a policy naming a client policy that is not loaded: the reload is refused, the old set stays"
rm -f "$d/policy.d/sim-mtl-ghost.policy"

tap_done
rc=$?
post_stop_agent
exit $rc
