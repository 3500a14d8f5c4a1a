#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/serving/serving.sh - the inference-serving scenario (issue 15,
# item 5) in the 6.12 guest: katls.ko, the simulated TSM provider, katlsd.
#
# Debian's nginx, unmodified, runs under `katls-run --server` without
# root (uid 65534), with its own configuration under /tmp, listening on
# 127.0.0.1 only.  It serves a model file (sendfile(2)) and proxies
# /v1/stream to a token-streaming backend on a UNIX socket
# (stream-backend.py: server-sent events, chunked, flushed per token),
# with proxy_buffering off: the way inference servers are put behind
# nginx.  Unmodified clients under `katls-run`:
#   * CLIENTS (64) curl processes at once, each fetching the model file
#     and the stream over one kept-alive connection; every body checked
#     by sha256, the stream's chunked framing and keep-alive checked;
#   * one curl that times the stream's arrival (many pieces, spread over
#     the backend's pace: streamed, not buffered);
#   * one curl fetching a large file (sha256, MB/s);
#   * wrk with WRK_CONNS connections (16; --full: 64), alternating the
#     two, every body compared byte for byte (check.lua);
#   * nginx's debug log shows sendfile(2) for the large file;
#   * a capture of the 64 clients' connections: every byte is a TLS
#     record, only application_data after the cleartext hellos, no
#     plaintext marker (tls-capture.py);
#   * a client whose policy (sim-wrong) rejects the server: curl fails,
#     no byte of the response, nginx never sees the request.
# Figures (handshakes, MB/s) are printed as "# figure:" lines.
#
#	tools/katls-vm run --no-agent --smp 1 -- sh tests/e2e/serving/serving.sh
#	... serving.sh --full     (make demo-serving: bigger, longer, figures)
# In the 6.12 e2e stage of make check (the short version).  Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
. "$top/tests/lib/tap.sh"
run=$top/userspace/run/build/katls-run
ctl=$top/userspace/cli/build/katlsctl

CLIENTS=64
if [ "${1:-}" = --full ]; then
	PROCS=8 MODEL_KB=2048 LARGE_MB=64 TOKENS=400 DELAY_MS=5 WRK_SECS=30
	WRK_CONNS=64
else
	PROCS=2 MODEL_KB=512 LARGE_MB=8 TOKENS=100 DELAY_MS=2 WRK_SECS=5
	WRK_CONNS=16
fi
port=9380
url=http://127.0.0.1:$port
# nginx and the backend run as nobody/nogroup.
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"

d=$(mktemp -d /tmp/serving.XXXXXX)
chmod 755 "$d"
mkdir -p "$d/www" "$d/ngx/tmp" "$d/c" "$d/agent"
chown 65534:65534 "$d/ngx" "$d/ngx/tmp"
# What nobody runs from the work tree, copied where nobody can read it:
# the tree (the guest sees it at the host's path, with the host's
# modes) may sit below a directory only root can enter, as a clone in
# a mktemp -d directory does.  katls-run finds the shim beside itself.
mkdir -p "$d/bin"
install -m 755 "$run" "$top/userspace/run/build/libkatls-run.so" \
	"$here/stream-backend.py" "$d/bin/"
run=$d/bin/katls-run

stat_of() { "$ctl" stat | awk -v k="$1" '$1 == k { print $2 }'; }
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
sha() { sha256sum "$1" | cut -d' ' -f1; }
figure() { echo "# figure: $*"; }
# mbps BYTES MS: megabytes (10^6) per second, one decimal
mbps() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? b / 1000 / ms : 0) }'; }

# Whatever happens, nothing of this test outlives it: a katlsd left
# running would take the requests of the next test's agent.
cleanup() {
	for p in ${npid:-} ${bpid:-} ${apid:-} ${tpid:-}; do
		kill -KILL "$p" 2>/dev/null
	done
}
trap cleanup EXIT

tap_plan_lazy

# --- the programs, all unmodified Debian binaries ---
miss=
for t in nginx curl wrk tcpdump setpriv python3 sha256sum; do
	command -v $t >/dev/null 2>&1 || miss="$miss $t"
done
[ -z "$miss" ]
ok $? "nginx, curl, wrk, tcpdump, setpriv present${miss:+ (missing:$miss; tools/install-deps)}"

# --- content: a model file, a large file, the expected stream ---
head -c $((MODEL_KB * 1024 - 32)) /dev/urandom >"$d/www/model.bin"
printf 'KATLS-SERVING-MODEL-PLAINTEXT\n' >>"$d/www/model.bin"
head -c $((LARGE_MB * 1024 * 1024)) /dev/urandom >"$d/www/large.bin"
python3 "$here/stream-backend.py" expect $TOKENS >"$d/stream.expect"
model_sha=$(sha "$d/www/model.bin")
stream_sha=$(sha "$d/stream.expect")
model_len=$(stat -c %s "$d/www/model.bin")
stream_len=$(stat -c %s "$d/stream.expect")
chmod -R a+rX "$d/www" "$d/stream.expect"

# --- the agent (both roles, policies sim-demo and sim-wrong) ---
# One katlsd serves both ends of every connection here (on two machines
# each end has its own).  A client's handshake can only finish while the
# server's runs too, so every request must be admitted at once:
# concurrency and the per-user/per-peer limits cover both ends of all
# connections (otherwise client requests holding every slot wait for
# server requests queued behind them until the timeout).
mkdir -p "$d/agent/policy.d"
cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/agent/policy.d/"
printf 'name sim-wrong\nallow sim\nmeasurement %s\nevidence_bound_key allow\n' \
	"$(printf '99%.0s' $(seq 48))" >"$d/agent/policy.d/sim-wrong.policy"
katls_self_signed "$d/agent" serving
slots=$((2 * CLIENTS + 16))
katls_conf "$d/agent/katlsd.conf" $slots info "$d/agent/policy.d" \
	"$d/agent/cert.pem" "$d/agent/key.pem"
sed -i "s/^\[katlsd\]\$/[katlsd]\nmax_per_uid = $slots\nmax_per_peer = $slots\nmax_waiting = 1024/" \
	"$d/agent/katlsd.conf"
"$top/userspace/katlsd/build/katlsd" --foreground \
	--config "$d/agent/katlsd.conf" >"$d/agent/katlsd.log" 2>&1 &
apid=$!
katls_wait_started "$d/agent/katlsd.log"
ok_diag $? "katlsd started (concurrency $slots: both ends of $CLIENTS connections)" \
	"$d/agent/katlsd.log"
# Handshakes queue behind each other on one vCPU under TCG: give each
# request up to two minutes (katls-run --timeout; the default is 10 s).
run="$run --timeout 120000"

# --- the backend and nginx, as nobody ---
$nobody python3 "$d/bin/stream-backend.py" serve "$d/ngx/backend.sock" \
	$TOKENS $DELAY_MS >"$d/backend.log" 2>&1 &
bpid=$!
katls_wait_for listening "$d/backend.log"
cat >"$d/ngx/nginx.conf" <<EOF
# The serving scenario's nginx (tests/e2e/serving/serving.sh); nothing
# outside $d is read or written.
daemon off;
master_process on;
worker_processes 1;
pid $d/ngx/nginx.pid;
error_log $d/ngx/error.log info;
events {
	worker_connections 1024;
}
http {
	log_format serving '\$status \$body_bytes_sent \$request_uri \$connection_requests';
	access_log $d/ngx/access.log serving;
	client_body_temp_path $d/ngx/tmp/body;
	proxy_temp_path $d/ngx/tmp/proxy;
	fastcgi_temp_path $d/ngx/tmp/fastcgi;
	uwsgi_temp_path $d/ngx/tmp/uwsgi;
	scgi_temp_path $d/ngx/tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 120s;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$port;
		root $d/www;
		# nginx's debug log for this one file shows its sendfile calls
		location = /large.bin {
			error_log $d/ngx/large-debug.log debug;
		}
		location /v1/ {
			proxy_pass http://unix:$d/ngx/backend.sock;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_read_timeout 120s;
		}
	}
}
EOF
$nobody $run --server --port $port --policy sim-demo -- \
	nginx -p "$d/ngx/" -c "$d/ngx/nginx.conf" -e "$d/ngx/error.log" \
	>"$d/ngx/stdout.log" 2>&1 &
npid=$!
katls_wait_listen $port
res=$?
nuid=$(awk '/^Uid:/ { print $2 }' /proc/$npid/status 2>/dev/null)
[ $res -eq 0 ] && [ "$nuid" = 65534 ] &&
	grep -q "^ *[0-9]*: 0100007F:$(printf %04X $port) 00000000:0000 0A" /proc/net/tcp &&
	! grep -q ":$(printf %04X $port) 0*:0000 0A" /proc/net/tcp6 &&
	[ "$(grep -c ":$(printf %04X $port) 00000000:0000 0A" /proc/net/tcp)" -eq 1 ]
ok_diag $? "nginx under katls-run --server: uid $nuid, listening on 127.0.0.1:$port only" \
	"$d/ngx/stdout.log" "$d/ngx/error.log"

# --- CLIENTS concurrent connections from curl, under a capture ---
# PROCS curl processes (each starting a program costs seconds under TCG
# with /usr on 9p), each with CLIENTS/PROCS connections at once
# (--parallel): every connection fetches the model file, then the
# stream, each body into its own file.
tcpdump --immediate-mode -B 65536 -Z root -i lo -U -w "$d/cap.pcap" \
	tcp port $port 2>"$d/tcpdump.err" &
tpid=$!
katls_wait_for listening "$d/tcpdump.err"
verified0=$(stat_of verified)
tx0=$(tls_stat TlsTxSw)
per=$((CLIENTS / PROCS))
t0=$(now_ms)
p=1
while [ $p -le $PROCS ]; do
	args=
	j=1
	while [ $j -le $per ]; do
		k=$(((p - 1) * per + j))
		args="$args -o $d/c/$k.model $url/model.bin?c=$k"
		j=$((j + 1))
	done
	j=1
	while [ $j -le $per ]; do
		k=$(((p - 1) * per + j))
		args="$args -o $d/c/$k.stream $url/v1/stream?c=$k"
		j=$((j + 1))
	done
	(
		# shellcheck disable=SC2086
		timeout 300 $run --policy sim-demo -- curl -s -S --max-time 240 \
			--parallel --parallel-immediate --parallel-max $per \
			-w '%{url} %{http_code} %{size_download} %{num_connects} %{time_connect} %{time_total} cl=%header{content-length} te=%header{transfer-encoding} ct=%{content_type}\n' \
			$args >"$d/c/p$p.w" 2>"$d/c/p$p.err"
		echo $? >"$d/c/p$p.rc"
	) &
	p=$((p + 1))
done
p=1
while [ $p -le $PROCS ]; do
	while [ ! -s "$d/c/p$p.rc" ]; do sleep 0.2; done
	p=$((p + 1))
done
t1=$(now_ms)
sleep 1
kill -INT $tpid
wait $tpid
verified1=$(stat_of verified)
cat "$d"/c/p*.w >"$d/all.w"

rcbad=$(cat "$d"/c/p*.rc | grep -vc '^0$')
[ "$rcbad" -eq 0 ]
ok $? "$PROCS curl processes under katls-run, $CLIENTS connections at once: all exit 0 ($rcbad failed)"
[ "$rcbad" -eq 0 ] || diag "$d"/c/p*.err
good=0 bad=
k=1
while [ $k -le $CLIENTS ]; do
	if [ "$(sha "$d/c/$k.model" 2>/dev/null)" = "$model_sha" ] &&
	   [ "$(sha "$d/c/$k.stream" 2>/dev/null)" = "$stream_sha" ]; then
		good=$((good + 1))
	else
		bad="$bad $k"
	fi
	k=$((k + 1))
done
[ $good -eq $CLIENTS ]
ok $? "every body intact: $good x model.bin ($MODEL_KB KiB, sha256 $(echo $model_sha | cut -c1-12)...) and $good x token stream ($stream_len bytes, sha256 $(echo $stream_sha | cut -c1-12)...)${bad:+; bad:$bad}"
# the model with its length, the stream chunked text/event-stream
fm=$(awk -v l=$model_len '$1 ~ /model.bin/ && $2 == 200 && $3 == l && $7 == "cl=" l' "$d/all.w" | wc -l)
fs=$(awk '$1 ~ /v1.stream/ && $2 == 200 && $8 == "te=chunked" && $9 ~ /^ct=text\/event-stream/' "$d/all.w" | wc -l)
conns=$(awk '{ n += $4 } END { print n + 0 }' "$d/all.w")
[ $fm -eq $CLIENTS ] && [ $fs -eq $CLIENTS ] && [ $conns -ge $CLIENTS ] &&
	[ $conns -lt $((2 * CLIENTS)) ]
ok_diag $? "framing: $fm x 200 with Content-Length $model_len, $fs x 200 chunked text/event-stream; $conns connections for $((2 * CLIENTS)) responses (kept alive)" \
	"$d/all.w"
hs=$((verified1 - verified0))
[ $hs -ge $((2 * conns)) ]
ok $? "katlsd verified $hs handshakes (both ends of $conns connections)"
ms=$((t1 - t0))
figure "$CLIENTS concurrent clients: $conns attested connections (both ends attested/verified: $hs handshakes) and $((2 * CLIENTS)) responses in $ms ms: $(awk -v n=$conns -v ms=$ms 'BEGIN { printf "%.1f", ms ? n * 1000 / ms : 0 }') attested connections/s"
awk '$4 == 1 { print int($5 * 1000) }' "$d/all.w" | sort -n >"$d/connect.ms"
figure "attested connect() (TCP + attested TLS handshake, as curl saw it): p50 $(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] + 0 }' "$d/connect.ms") ms, max $(tail -n 1 "$d/connect.ms") ms"
figure "$CLIENTS clients x (model + stream): $(mbps $((CLIENTS * (model_len + stream_len))) $ms) MB/s aggregate, handshakes included"

# The server side saw each request once, completely.
n_model=$(grep -c "^200 $model_len /model.bin?c=" "$d/ngx/access.log")
n_stream=$(grep -c "^200 [0-9]* /v1/stream?c=" "$d/ngx/access.log")
[ "$n_model" -eq $CLIENTS ] && [ "$n_stream" -eq $CLIENTS ]
ok_diag $? "nginx's access log: $n_model complete model.bin and $n_stream stream responses" \
	"$d/ngx/error.log"
[ "$(tls_stat TlsTxSw)" -ge $((tx0 + 2 * CLIENTS)) ]
ok $? "kTLS software TX counter moved by $(($(tls_stat TlsTxSw) - tx0)) (nginx's sockets and the clients')"

# --- the capture: TLS records only ---
python3 "$here/tls-capture.py" "$d/cap.pcap" $port \
	KATLS-SERVING-MODEL-PLAINTEXT KATLS-SERVING-TOKEN "HTTP/1.1" \
	"GET /" >"$d/cap.out" 2>&1
res=$?
grep -q '^0 packets dropped by kernel' "$d/tcpdump.err" &&
	[ "$(sed -n 's/^tls-capture: conns=\([0-9]*\) .*/\1/p' "$d/cap.out")" -ge $CLIENTS ] &&
	[ $res -eq 0 ]
ok $? "capture of $CLIENTS connections ($(stat -c %s "$d/cap.pcap") bytes, complete): only TLS records, application_data after the hellos, no plaintext ($(sed -n 's/^tls-capture: //p' "$d/cap.out" | head -n 1))"
[ $res -eq 0 ] || diag "$d/cap.out" "$d/tcpdump.err"

# --- the stream is streamed: many pieces over the backend's pace ---
timeout 120 $run --policy sim-demo -- curl -s -S -N --trace-time \
	--trace-ascii "$d/trace" -o "$d/probe.stream" "$url/v1/stream" \
	>/dev/null 2>"$d/probe.err"
res=$?
pieces=$(grep -c '<= Recv data' "$d/trace")
span=$(awk '/<= Recv data/ { split($1, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]; if (!f) f = s; l = s } END { printf "%d", (l - f) * 1000 }' "$d/trace")
[ $res -eq 0 ] && [ "$(sha "$d/probe.stream")" = "$stream_sha" ] &&
	[ "$pieces" -ge $((TOKENS / 4)) ] && [ "$span" -ge $((TOKENS * DELAY_MS / 2)) ]
ok_diag $? "the token stream arrives as it is produced: $pieces pieces over $span ms ($TOKENS tokens, $DELAY_MS ms apart), intact" \
	"$d/probe.err"

# --- one large file on one connection ---
timeout 300 $run --policy sim-demo -- curl -s -S -o "$d/large.out" \
	-w '%{http_code} %{size_download} %{time_connect} %{time_total}\n' \
	"$url/large.bin" >"$d/large.w" 2>"$d/large.err"
res=$?
[ $res -eq 0 ] && [ "$(sha "$d/large.out")" = "$(sha "$d/www/large.bin")" ]
ok_diag $? "large file: $LARGE_MB MiB over one connection, sha256 equal" \
	"$d/large.err" "$d/large.w"
n=$(grep -c 'sendfile: @' "$d/ngx/large-debug.log" 2>/dev/null)
[ "${n:-0}" -ge 1 ]
ok $? "nginx sent the large file with sendfile(2) on the kTLS socket (${n:-0} calls in its debug log)"
figure "one connection, $LARGE_MB MiB by sendfile: $(awk '{ printf "%.1f", ($4 > $3 ? $2 / 1e6 / ($4 - $3) : 0) }' "$d/large.w") MB/s after the handshake ($(awk '{ printf "%d", $3 * 1000 }' "$d/large.w") ms to connect)"
rm -f "$d/large.out" "$d/www/large.bin"

# --- wrk: WRK_CONNS connections (64 in the full version; fewer in make
# check, where handshakes under TCG cost seconds each), every body
# compared.  wrk's duration includes its connections' handshakes: it
# gets WRK_SECS after one and a half times the time the curl phase
# needed for as many attested connections (at most 180 s).
verified0=$(stat_of verified)
c=$conns
[ $c -gt 0 ] || c=1
wsecs=$((WRK_SECS + WRK_CONNS * ms * 3 / 2 / c / 1000))
[ $wsecs -le 180 ] || wsecs=180
timeout $((wsecs + 240)) $run --policy sim-demo -- wrk -t 1 \
	-c $WRK_CONNS -d ${wsecs}s --timeout 120s -s "$here/check.lua" "$url/" \
	-- /model.bin "$d/www/model.bin" /v1/stream "$d/stream.expect" \
	>"$d/wrk.out" 2>"$d/wrk.err"
res=$?
w=$(grep '^serving-wrk:' "$d/wrk.out")
# wv KEY: the value wrk's check.lua reported for KEY, 0 if none (no run)
wv() { v=$(echo "$w" | tr ' ' '\n' | sed -n "s/^$1=//p"); echo "${v:-0}"; }
hs=$(($(stat_of verified) - verified0))
[ $res -eq 0 ] && [ -n "$w" ] && [ "$(wv bad)" -eq 0 ] &&
	[ "$(wv big)" -ge 1 ] && [ "$(wv stream)" -ge 1 ] &&
	[ $hs -ge $((2 * WRK_CONNS)) ] &&
	[ "$(($(wv connect_err) + $(wv read_err) + $(wv write_err) + $(wv status_err) + $(wv timeout)))" -eq 0 ]
res=$?
ok_diag $res "wrk under katls-run, $WRK_CONNS connections ($((hs / 2)) attested) for ${wsecs}s: $(wv ok) responses ($(wv big) model, $(wv stream) stream) each equal to the expected body, no error" \
	"$d/wrk.out"
if [ $res -ne 0 ]; then
	awk -v m=$model_len -v st=$stream_len '$1 != 200 ||
		($3 ~ /^\/model/ && $2 != m) || ($3 ~ /^\/v1/ && $2 < st)' \
		"$d/ngx/access.log" | head -n 10 | diag
	grep -v '\[notice\]\|closed keepalive\|possible truncation' \
		"$d/ngx/error.log" | sort -k3 | uniq -c -f3 | head -n 10 | diag
	grep -v '\[notice\]\|closed keepalive\|possible truncation' \
		"$d/ngx/error.log" | head -n 6 | diag
	sort "$d/wrk.err" | uniq -c | head -n 10 | diag
	grep -v 'possible truncation' "$d/ngx/stdout.log" | sort | uniq -c |
		head -n 10 | diag
fi
figure "wrk: $(wv ok) responses in $(($(wv us) / 1000)) ms over $WRK_CONNS connections, handshakes included: $(mbps "$(wv bytes)" $(($(wv us) / 1000))) MB/s, $(awk -v n="$(wv ok)" -v us="$(wv us)" 'BEGIN { printf "%.1f", us ? n * 1e6 / us : 0 }') requests/s"
sed -n 's/^ *\(Latency\|Req\/Sec\|Requests\/sec\|Transfer\/sec\).*/# wrk: &/p' "$d/wrk.out"

# --- a client whose policy rejects the server gets no byte ---
lines0=$(wc -l <"$d/ngx/access.log")
rejected0=$(stat_of rejected)
timeout 180 $run --policy sim-wrong -- curl -s -S -o "$d/rejected.out" \
	"$url/model.bin" >/dev/null 2>"$d/rejected.err"
res=$?
[ $res -ne 0 ] && [ ! -s "$d/rejected.out" ] &&
	[ "$(stat_of rejected)" -gt "$rejected0" ]
ok_diag $? "rejecting policy: curl fails (exit $res: $(sed -n 's/^curl: //p' "$d/rejected.err" | head -n 1)), katls counted the rejection, no byte of the response" \
	"$d/rejected.err"
sleep 1
[ "$(wc -l <"$d/ngx/access.log")" -eq "$lines0" ] && kill -0 $npid 2>/dev/null
ok $? "rejecting policy: nginx never saw the request and still runs"

# --- nginx exits cleanly ---
kill -QUIT $npid
wait $npid
res=$?
# The one alert allowed: the rejected connection's status reaching
# nginx's first recv() (EPROTO when the client's alert ended the
# server's handshake; a bare FIN, logged at info, when it ended later).
grep '\[\(alert\|crit\|emerg\)\]' "$d/ngx/error.log" |
	grep -v 'recv() failed (71: Protocol error) while waiting for request' \
	>"$d/ngx/alerts"
[ $res -eq 0 ] && [ ! -s "$d/ngx/alerts" ]
ok_diag $? "nginx shuts down gracefully (exit $res), no alert in its error log but the rejected connection's" \
	"$d/ngx/alerts"

kill $bpid $apid 2>/dev/null
wait $bpid $apid 2>/dev/null
if [ $tap_failed -ne 0 ]; then
	sed 's/^/# katlsd: /' "$d/agent/katlsd.log" | tail -n 40
	sed 's/^/# nginx: /' "$d/ngx/error.log" | tail -n 40
fi
rm -rf "$d"
tap_done
