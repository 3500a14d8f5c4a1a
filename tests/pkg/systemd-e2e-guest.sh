#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/pkg/systemd-e2e-guest.sh - the guest side of tools/systemd-e2e:
# runs as root under systemd (PID 1) in the Debian 12 guest of
# tools/systemd-rootfs, from katls-e2e.service, with the host's run
# directory R=/mnt/katlsrun holding the .debs (debs/), the test-only
# simulated TSM module and sim policy, the server's identity and
# configuration, and tap.sh.  TAP on R/result.tap (and the console).
#
# Product files come from the packages only: /usr/sbin/katlsd,
# /usr/bin/katls-cat, /usr/sbin/katlsctl, katlsd.service, the module
# DKMS built.  Test-only files come from R, installed by this script.
set -u
R=/mnt/katlsrun
. "$R/tap.sh"
exec > >(tee "$R/result.tap") 2>&1
teepid=$!
tap_plan_lazy
log=/root/e2e
mkdir -p "$log"
diag_tail() { tail -n 30 "$@" | sed 's/^/# /'; }
# waitfor SECONDS CMD...: until CMD succeeds, at most SECONDS.
waitfor() {
	local n=$(($1 * 5))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}
journal_has() { journalctl -q -u katlsd -o cat --no-pager | grep -q -- "$1"; }
in_srv() { nsenter --net=/run/netns/katls-srv "$@"; }

[ "$(cat /proc/1/comm)" = systemd ]
ok $? "systemd is PID 1 ($(systemctl --version | head -1))"
[ "$(uname -r)" = "$(cat "$R/kver")" ]
ok $? "running Debian's kernel $(uname -r)"

# --- Install: the commands of README.md, "Install" ----------------------
cp -r "$R/debs" /root/katls-debs
cd /root/katls-debs
t0=$(date +%s)
# Its output goes to the console too, as TAP comments (DKMS's build is
# the slow part under TCG).
apt-get install -y ./katls-dkms_*_all.deb ./katlsd_*_amd64.deb \
	./libkatls0_*_amd64.deb ./katls-tools_*_amd64.deb 2>&1 |
	tee "$log/apt.log" | sed -u 's/^/# apt: /'
rc=${PIPESTATUS[0]}
ok "$rc" "apt-get install ./katls-dkms ./katlsd ./libkatls0 ./katls-tools ($(( $(date +%s) - t0 )) s, DKMS build included)"
[ "$rc" -eq 0 ] || diag_tail "$log/apt.log"
cd /
dkms status katls >"$log/dkms" 2>&1
grep -q "katls/.*, $(uname -r), .*: installed" "$log/dkms"
ok $? "dkms status: katls installed for $(uname -r): $(grep -m1 "katls/" "$log/dkms")"
mod=$(modinfo -n katls 2>/dev/null)
case "$mod" in
*/updates/dkms/*) ok 0 "modinfo: katls.ko is DKMS's ($mod)" ;;
*) ok 1 "modinfo: katls.ko is DKMS's (got '$mod')" ;;
esac
waitfor 30 systemctl is-active --quiet katlsd
ok $? "katlsd.service active after the install (apt started it)"
grep -q '^katls ' /proc/modules
ok $? "katls.ko loaded (katlsd.service's modprobe)"
systemctl is-enabled --quiet katlsd
ok $? "katlsd.service enabled"
waitfor 10 journal_has "started"
ok $? "katlsd logs to the journal: $(journalctl -q -u katlsd -o cat --no-pager | grep -m1 started)"

# --- Test-only parts, from the harness -----------------------------------
# insmod resolves no dependency: configfs-tsm (tsm) first.
modprobe -a configfs tsm && insmod "$R/katls_sim_tsm.ko"
ok $? "modprobe tsm, insmod katls_sim_tsm.ko (test-only simulated TSM, from the harness)"
install -m 0644 "$R/sim-demo.policy" /etc/katls/policy.d/sim-demo.policy
systemctl reload katlsd
waitfor 10 journal_has "configuration and policies reloaded"
ok $? "systemctl reload katlsd: the journal says the policies were reloaded"

# --- Two network namespaces: the host's (client, katlsd.service) and
# katls-srv (server, the installed katlsd with the harness's config).
ip netns add katls-srv
ip link add veth-c type veth peer name veth-s netns katls-srv
ip addr add 10.77.0.2/24 dev veth-c
ip link set veth-c up
in_srv ip addr add 10.77.0.1/24 dev veth-s
in_srv ip link set veth-s up
in_srv ip link set lo up
in_srv /usr/sbin/katlsd --foreground --config "$R/srv.conf" >"$log/srv.log" 2>&1 &
srvd=$!
waitfor 20 grep -q started "$log/srv.log"
ok $? "server katlsd (/usr/sbin/katlsd) in namespace katls-srv"

# transfer PORT NAME: a 1 MB attested transfer client -> server.
transfer() {
	local port=$1 name=$2 spid crc src
	head -c 1000000 /dev/urandom >"$log/file"
	in_srv katls-cat -l -p sim-demo "$port" >"$log/recv.$port" 2>"$log/srv.$port.err" &
	spid=$!
	waitfor 10 in_srv sh -c "grep -q ':$(printf %04X "$port") 00000000:0000 0A' /proc/net/tcp"
	katls-cat --policy sim-demo 10.77.0.1 "$port" <"$log/file" 2>"$log/cli.$port.err"
	crc=$?
	wait $spid
	src=$?
	[ $crc -eq 0 ] && [ $src -eq 0 ] && cmp -s "$log/file" "$log/recv.$port"
	ok $? "$name: katls-cat client $crc, server $src, 1 MB received intact"
	[ $crc -eq 0 ] || diag_tail "$log/cli.$port.err" "$log/srv.$port.err"
}
transfer 4433 "attested transfer between the namespaces"
waitfor 10 journal_has "handshake done"
ok $? "the client's verdict is in the journal: $(journalctl -q -u katlsd -o cat --no-pager | grep -m1 "handshake done" | cut -c1-100)"

# --- Restart after SIGKILL -----------------------------------------------
# Ready again: a new main process, and a worker of it that has joined
# the agent group (each worker logs that line after joining; a line of
# the killed instance does not count).
workers_up() {
	journalctl -q -u katlsd -o cat --no-pager |
		grep -c "handshakes at once, sandbox"
}
w0=$(workers_up)
pid0=$(systemctl show -p MainPID --value katlsd)
kill -KILL "$pid0"
restarted() {
	local p
	p=$(systemctl show -p MainPID --value katlsd)
	[ "$p" != 0 ] && [ "$p" != "$pid0" ] && systemctl is-active --quiet katlsd &&
		[ "$(workers_up)" -gt "$w0" ]
}
waitfor 30 restarted
ok $? "katlsd restarted after SIGKILL (MainPID $pid0 -> $(systemctl show -p MainPID --value katlsd), NRestarts=$(systemctl show -p NRestarts --value katlsd))"
transfer 4434 "attested transfer after the restart"

# --- systemctl stop: pending requests fail closed ------------------------
# A server that accepts and never answers: the client's handshake stays
# pending in katlsd until the stop.
in_srv nc -l 4435 >"$log/nc.out" 2>/dev/null &
ncpid=$!
waitfor 10 in_srv sh -c "grep -q ':1153 00000000:0000 0A' /proc/net/tcp"
printf 'KATLS-E2E-SECRET\n' |
	katls-cat -t 30000 --policy sim-demo 10.77.0.1 4435 >/dev/null 2>"$log/pend.err" &
cpid=$!
sleep 3
kill -0 $cpid 2>/dev/null
ok $? "a request to a silent server is pending"
t0=$(date +%s)
systemctl stop katlsd
wait $cpid
crc=$?
[ $crc -ne 0 ]
ok $? "systemctl stop katlsd ($(( $(date +%s) - t0 )) s): the pending request failed (katls-cat exit $crc: $(tail -1 "$log/pend.err"))"
kill $ncpid 2>/dev/null
wait $ncpid 2>/dev/null
! grep -q KATLS-E2E-SECRET "$log/nc.out"
ok $? "no plaintext reached the silent server ($(stat -c %s "$log/nc.out") bytes, handshake only)"
in_srv nc -l 4436 >"$log/nc2.out" 2>/dev/null &
ncpid=$!
waitfor 10 in_srv sh -c "grep -q ':1154 00000000:0000 0A' /proc/net/tcp"
printf 'KATLS-E2E-SECRET\n' |
	katls-cat -t 5000 --policy sim-demo 10.77.0.1 4436 >/dev/null 2>"$log/stopped.err"
crc=$?
kill $ncpid 2>/dev/null
wait $ncpid 2>/dev/null
[ $crc -ne 0 ] && ! grep -q KATLS-E2E-SECRET "$log/nc2.out"
ok $? "with katlsd stopped a new request to a listening server fails, no plaintext sent: $(tail -1 "$log/stopped.err")"
journal_has "stopped"
ok $? "the journal has katlsd's stop"

kill $srvd 2>/dev/null
wait $srvd 2>/dev/null
journalctl -q -u katlsd -o short-monotonic --no-pager >"$R/katlsd.journal" 2>&1
tap_done
rc=$?
# All of the TAP on the share before systemd powers the guest off.
exec >&- 2>&-
wait $teepid
sync
exit $rc
