#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# test-run.sh - katls-run on the host, where the katls module is not
# loaded: the wrapper's checks and exit statuses, and the shim failing
# closed (no byte reaches the peer) when it cannot opt a socket in.
# The real opt-in is tests/e2e/run/run.sh, in the 6.12 guest.
#
#	test-run.sh TOP BUILD_DIR
set -u
top=$1
b=$2
. "$top/tests/lib/tap.sh"
tap_plan 19

d=$(mktemp -d "${TMPDIR:-/tmp}/katls-run.XXXXXX")
trap 'rm -rf "$d"' EXIT
run=$b/katls-run
so=$b/libkatls-run.so
plain=$b/plain-tcp
head -c 50000 /dev/urandom >"$d/up"
head -c 70000 /dev/urandom >"$d/down"

# A free port per case, from this process's id.
port=$((20000 + $$ % 20000))

"$run" --help >"$d/out" 2>&1
[ $? -eq 0 ] && grep -q '^usage: katls-run' "$d/out"
ok_diag $? "--help: usage on stdout, exit 0" "$d/out"

"$run" --frobnicate -- true >"$d/out" 2>&1
[ $? -eq 125 ] && grep -q "unknown option '--frobnicate'" "$d/out"
ok_diag $? "unknown option: exit 125 with the reason" "$d/out"

"$run" --port 0 -- true >"$d/out" 2>&1
[ $? -eq 125 ] && grep -q "invalid port '0'" "$d/out"
ok_diag $? "--port 0: exit 125 with the reason" "$d/out"

"$run" -- katls-run-no-such-command >"$d/out" 2>&1
[ $? -eq 127 ] && grep -q 'command not found' "$d/out"
ok_diag $? "unknown command: exit 127" "$d/out"

printf 'int main(void) { return 0; }\n' >"$d/st.c"
cc -static -o "$d/static" "$d/st.c" 2>"$d/out"
"$run" -- "$d/static" >"$d/out" 2>&1
[ $? -eq 125 ] && grep -q 'statically linked' "$d/out"
ok_diag $? "static program refused (LD_PRELOAD cannot reach it): exit 125" \
	"$d/out"

cp "$plain" "$d/suid"
chown 65534 "$d/suid" 2>/dev/null
chmod 4755 "$d/suid"
if [ "$(stat -c %u "$d/suid")" != "$(id -u)" ]; then
	"$run" -- "$d/suid" >"$d/out" 2>&1
	[ $? -eq 125 ] && grep -q 'set-user-ID' "$d/out"
	ok_diag $? "set-user-ID program of another user refused: exit 125" \
		"$d/out"
else
	ok 1 "set-user-ID program: could not give it another owner (need root)"
fi

[ ! -e /sys/module/katls ]
ok $? "precondition: the katls module is not loaded on this host"
"$run" -- "$plain" cli 127.0.0.1 1 "$d/up" "$d/c.out" >"$d/out" 2>&1
[ $? -eq 125 ] && grep -q 'katls kernel module is not loaded' "$d/out"
ok_diag $? "module missing: katls-run refuses to run the program, exit 125" \
	"$d/out"

# The shim itself, without the wrapper's module check.
# srv_plain PORT: a plain server (no shim) in the background.
srv_plain() {
	timeout 30 "$plain" srv "$1" "$d/down" "$d/s.out" >"$d/s.log" 2>&1 &
	spid=$!
	i=0
	while [ $i -lt 50 ] && ! grep -qE ":$(printf '%04X' "$1") 00000000:0000 0A" \
		/proc/net/tcp; do
		sleep 0.1
		i=$((i + 1))
	done
}

port=$((port + 1))
srv_plain $port
timeout 30 env LD_PRELOAD="$so" KATLS_RUN_ROLE=client KATLS_RUN_POLICY=sim-demo \
	"$plain" cli 127.0.0.1 $port "$d/up" "$d/c.out" >"$d/c.log" 2>&1
crc=$?
wait $spid
[ $crc -eq 1 ] && grep -q 'plain-tcp: connect: ENOPROTOOPT' "$d/c.log" &&
	grep -q 'kernel module not loaded' "$d/c.log"
ok_diag $? "shim, client, no module: connect() fails ENOPROTOOPT and says why" \
	"$d/c.log"
[ -f "$d/s.out" ] && [ ! -s "$d/s.out" ]
ok_diag $? "shim, client, no module: the server got no byte" "$d/s.log"

# The shim under valgrind: no error, no leak (the failing-closed path).
port=$((port + 1))
srv_plain $port
timeout 60 valgrind -q --trace-children=yes --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect \
	env LD_PRELOAD="$so" KATLS_RUN_ROLE=client KATLS_RUN_POLICY=sim-demo \
	"$plain" cli 127.0.0.1 $port "$d/up" "$d/c.out" >"$d/c.log" 2>&1
crc=$?
wait $spid
[ $crc -eq 1 ] && grep -q 'plain-tcp: connect: ENOPROTOOPT' "$d/c.log"
ok_diag $? "shim under valgrind: fails closed, no memory error or leak" \
	"$d/c.log"

port=$((port + 1))
env LD_PRELOAD="$so" KATLS_RUN_ROLE=server KATLS_RUN_POLICY=sim-demo \
	timeout 30 "$plain" srv $port "$d/down" "$d/s.out" >"$d/s.log" 2>&1 &
spid=$!
i=0
while [ $i -lt 50 ] && ! grep -qE ":$(printf '%04X' $port) 00000000:0000 0A" \
	/proc/net/tcp; do
	sleep 0.1
	i=$((i + 1))
done
timeout 30 "$plain" cli 127.0.0.1 $port "$d/up" "$d/c.out" >"$d/c.log" 2>&1
wait $spid
src=$?
[ $src -eq 1 ] && grep -q 'plain-tcp: accept: ECONNABORTED' "$d/s.log" &&
	grep -q 'kernel module not loaded' "$d/s.log" && [ ! -s "$d/s.out" ]
ok_diag $? "shim, server, no module: accept() fails ECONNABORTED, nothing read" \
	"$d/s.log"
[ ! -s "$d/c.out" ]
ok $? "shim, server, no module: the client got no byte"

port=$((port + 1))
srv_plain $port
timeout 30 env LD_PRELOAD="$so" KATLS_RUN_ROLE=client KATLS_RUN_PORTS=1,2 \
	"$plain" cli 127.0.0.1 $port "$d/up" "$d/c.out" >"$d/c.log" 2>&1
crc=$?
wait $spid
[ $crc -eq 0 ] && cmp -s "$d/up" "$d/s.out" && cmp -s "$d/down" "$d/c.out"
ok_diag $? "shim, --port 1,2: a connection to another port is left alone" \
	"$d/c.log" "$d/s.log"

port=$((port + 1))
srv_plain $port
env LD_PRELOAD="$so" "$plain" cli 127.0.0.1 $port "$d/up" "$d/c.out" \
	>"$d/c.log" 2>&1
crc=$?
kill $spid 2>/dev/null	# no client ever connected
wait $spid 2>/dev/null
[ $crc -eq 1 ] && grep -q 'connect: EINVAL' "$d/c.log" &&
	grep -q 'KATLS_RUN_ROLE not set' "$d/c.log" && [ ! -s "$d/s.out" ]
ok_diag $? "shim preloaded without katls-run's settings: connect() fails EINVAL" \
	"$d/c.log"

# A descriptor number reused behind the shim's back: opted in again.
# The listener never accepts: the kernel completes both connections.
port=$((port + 1))
python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
time.sleep(30)' $port &
lpid=$!
i=0
while [ $i -lt 50 ] && ! grep -qE ":$(printf '%04X' $port) 00000000:0000 0A" \
	/proc/net/tcp; do
	sleep 0.1
	i=$((i + 1))
done
timeout 30 env LD_PRELOAD="$so" KATLS_RUN_ROLE=client \
	"$b/fd-reuse" $port >"$d/c.log" 2>&1
kill $lpid 2>/dev/null
wait $lpid 2>/dev/null
grep -q '^first: ENOPROTOOPT second: ENOPROTOOPT fd: \([0-9]*\) \1$' \
	"$d/c.log"
ok_diag $? "a new socket on a reused descriptor number is opted in, never plain" \
	"$d/c.log"

# Installation: make install DESTDIR PREFIX puts the three files in place
# and the wrapper names the installed shim.
make -s -C "$top/userspace/run" install DESTDIR="$d/root" PREFIX=/usr \
	>"$d/inst.log" 2>&1
ok_diag $? "make install DESTDIR=... PREFIX=/usr" "$d/inst.log"
[ -x "$d/root/usr/bin/katls-run" ] &&
	[ -f "$d/root/usr/lib/katls/libkatls-run.so" ] &&
	[ -f "$d/root/usr/share/man/man1/katls-run.1" ] &&
	grep -q '/usr/lib/katls/libkatls-run.so' "$d/root/usr/bin/katls-run"
ok $? "installed: katls-run, lib/katls/libkatls-run.so, katls-run.1"
# Back to the default build (the test must not leave a /usr build).
make -s -C "$top/userspace/run" all >/dev/null 2>&1
man -l "$d/root/usr/share/man/man1/katls-run.1" >"$d/man.txt" 2>&1 ||
	MANWIDTH=80 groff -man -Tutf8 "$d/root/usr/share/man/man1/katls-run.1" \
		>"$d/man.txt" 2>&1
grep -q 'close_notify' "$d/man.txt"
ok_diag $? "the man page renders" "$d/man.txt"
tap_done
