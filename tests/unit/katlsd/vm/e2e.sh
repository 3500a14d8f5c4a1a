#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the guest (tools/katls-vm run --no-agent -- sh e2e.sh): start
# katlsd with a fresh self-signed key and run e2e.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../../.." && pwd)
d=$(mktemp -d)
mkdir "$d/policy.d"
cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/policy.d/"
printf 'name sim-wrong\nallow sim\nmeasurement %s\n' \
	"$(printf '99%.0s' $(seq 48))" > "$d/policy.d/sim-wrong.policy"
certtool --generate-privkey --key-type=ecdsa --outfile "$d/key.pem" 2>/dev/null
printf 'cn = katls-e2e\nexpiration_days = 2\nsigning_key\n' > "$d/tmpl"
certtool --generate-self-signed --load-privkey "$d/key.pem" \
	--template "$d/tmpl" --outfile "$d/cert.pem" 2>/dev/null
cat > "$d/katlsd.conf" <<CONF
[katlsd]
concurrency = 8
log_level = debug
policy_dir = $d/policy.d
[server]
certificate = $d/cert.pem
private_key = $d/key.pem
[client]
evidence_bound_key = sim-demo, sim-wrong, no-such-policy
CONF
"$top/userspace/katlsd/katlsd" --foreground --config "$d/katlsd.conf" \
	>"$d/log" 2>&1 &
pid=$!
# Wait until it has joined the multicast group (the kernel fails
# requests with ESRCH while no agent listens).
i=0
while ! grep -q "started" "$d/log" && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
KATLSD_PID=$pid "$here/e2e"
rc=$?
kill -TERM $pid
sleep 1
sed 's/^/# katlsd: /' "$d/log"
exit $rc
