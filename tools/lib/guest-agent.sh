# SPDX-License-Identifier: GPL-2.0
#
# Sourced by guest-side scripts (tools/lib/demo-guest.sh, the katlsd and
# cli end-to-end tests, tools/bench/hs.sh, tools/attack/run): a throw-away
# server identity, the one katlsd.conf writer (katls_conf) and a katlsd
# that is known to listen before the caller goes on.

# katls_self_signed DIR CN [IP...]: DIR/key.pem and DIR/cert.pem (ECDSA
# P-256), with CN, the loopback addresses and the IPs as subject
# alternative names: katlsd checks a peer name against them even for an
# evidence-bound key (Documentation/katlsd.rst, "Server identity").
katls_self_signed() {
	local dir=$1 cn=$2 ip

	shift 2
	certtool --generate-privkey --key-type=ecdsa --outfile "$dir/key.pem" \
		2>/dev/null
	printf 'cn = %s\nexpiration_days = 2\nsigning_key\ndns_name = %s\n' \
		"$cn" "$cn" >"$dir/tmpl"
	for ip in 127.0.0.1 ::1 "$@"; do
		printf 'ip_address = %s\n' "$ip" >>"$dir/tmpl"
	done
	certtool --generate-self-signed --load-privkey "$dir/key.pem" \
		--template "$dir/tmpl" --outfile "$dir/cert.pem" 2>/dev/null
}

# katls_wait_listen PORT: wait (up to 15 s) until something listens on
# TCP port PORT (IPv4 or IPv6).
katls_wait_listen() {
	local hex i=0

	hex=$(printf '%04X' "$1")
	while [ $i -lt 150 ]; do
		grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A" \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# katls_wait_for WORD FILE: wait (up to 20 s) until WORD appears in FILE.
katls_wait_for() {
	local i=0

	while ! grep -q "$1" "$2" && [ $i -lt 100 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	grep -q "$1" "$2"
}

# katls_conf FILE CONCURRENCY LOG_LEVEL POLICY_DIR [CERT KEY [TRUSTSTORE
#            [ROOTS_DIR]]]:
# write the katlsd.conf every test and tool uses (the one template, see
# etc/katls/katlsd.conf for the keys): [katlsd] always; [server] with
# CERT and KEY if given (the agent attests as a server); [client] with
# TRUSTSTORE if given (CA-valid peer certificates); [verify] with
# ROOTS_DIR if given (the evidence verifiers' trust anchors).  An empty
# argument counts as not given.
katls_conf() {
	{
		printf '[katlsd]\nconcurrency = %s\nlog_level = %s\npolicy_dir = %s\n' \
			"$2" "$3" "$4"
		if [ -n "${5:-}" ]; then
			printf '[server]\ncertificate = %s\nprivate_key = %s\n' \
				"$5" "${6:?katls_conf: CERT without KEY}"
		fi
		if [ -n "${7:-}" ]; then
			printf '[client]\ntruststore = %s\n' "$7"
		fi
		if [ -n "${8:-}" ]; then
			printf '[verify]\nroots_dir = %s\n' "$8"
		fi
	} >"$1"
}

# katls_wait_started LOG: until katlsd logged that it joined the agent
# group; before that the kernel fails requests with ESRCH.
# katls_wait_size FILE BYTES: until FILE holds more than BYTES, at most
# 20 s (a capture that tcpdump is still writing out).
katls_wait_size() {
	local i=0

	while [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -le "$2" ] &&
	      [ $i -lt 100 ]; do
		sleep 0.2
		i=$((i + 1))
	done
}

katls_wait_started() {
	katls_wait_for started "$1"
}

# katls_e2e_agent DIR CN LOGLEVEL: start katlsd for both roles with the
# policies sim-demo and sim-wrong (a measurement the simulated provider
# never reports) and a throw-away identity under DIR; log in
# DIR/katlsd.log, configuration in DIR/katlsd.conf.  Sets KATLS_AGENT_PID.
katls_e2e_agent() {
	mkdir -p "$1/policy.d"
	cp "$top/etc/katls/policy.d/sim-demo.policy" "$1/policy.d/"
	printf 'name sim-wrong\nallow sim\nmeasurement %s\nevidence_bound_key allow\n' \
		"$(printf '99%.0s' $(seq 48))" >"$1/policy.d/sim-wrong.policy"
	katls_self_signed "$1" "$2"
	katls_conf "$1/katlsd.conf" 8 "$3" "$1/policy.d" "$1/cert.pem" \
		"$1/key.pem"
	"$top/userspace/katlsd/build/katlsd" --foreground --config "$1/katlsd.conf" \
		>"$1/katlsd.log" 2>&1 &
	KATLS_AGENT_PID=$!
	katls_wait_started "$1/katlsd.log"
}
