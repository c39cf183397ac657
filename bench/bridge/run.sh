#!/usr/bin/env bash
# Benchmark `cutover bridge` against nginx, haproxy and caddy doing the same
# Host rewrite (cdn.example.com -> cdn-new.example.com) with keep-alive
# pooling to one local upstream. Everything binds to 127.0.0.1.
#
#   bench/bridge/run.sh                  # 3 rounds x 10 s, 2 threads, 64 connections
#   ROUNDS=5 DURATION=20s CONNS=128 bench/bridge/run.sh
#   PROXIES="cutover nginx" PROFILE=/tmp/prof bench/bridge/run.sh
#   BASELINE=/tmp/cutover-old bench/bridge/run.sh   # adds another build as "baseline"
#   MODE=upstream-tls bench/bridge/run.sh    # HTTP clients, HTTPS upstream (SNI + verification)
#   MODE=tls CORES=1 bench/bridge/run.sh     # HTTPS clients and upstream, one core per proxy
#   MODE=all CORES=all PROXIES="ceiling cutover nginx haproxy" bench/bridge/run.sh   # all six rows
#
# MODE: plain (HTTP → HTTP, the default), upstream-tls (HTTP → HTTPS: the
# upstream is verified against a local CA for the rewritten name, as a
# CloudFront distribution is; nginx with proxy_ssl_server_name/_name/_verify,
# haproxy with ssl sni verify required), tls (HTTPS clients too, certificate
# by SNI, HTTP/1.1). Certificates are ECDSA P-256 from a CA made for the run.
# CORES: 2 (every process shares both cores) or 1 (each proxy one worker or
# thread, GOMAXPROCS=1 for ours, pinned to core 0; wrk with one thread and
# the upstream pinned to core 1).
# MODE=all and CORES=all run the script once per mode and core count
# (HTTP → HTTP, HTTP → HTTPS, HTTPS → HTTPS; one core, then two).
#
# "ceiling" is wrk aimed straight at the upstream (with the rewritten Host):
# the most any proxy in front of it could deliver on this machine. PROFILE=dir
# saves a CPU and an allocation profile of the bridge taken under load in the
# first round (of the baseline too), with /metrics for per-request figures.
#
# The proxies are measured interleaved (round 1: all proxies, round 2: all
# proxies, ...) so drift in machine load hits every proxy alike. wrk, the
# upstream and the proxy share the machine's cores: compare ratios, not
# absolute numbers.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
MODE=${MODE:-plain}
CORES=${CORES:-2}
if [ "$MODE" = all ] || [ "$CORES" = all ]; then
	modes=$MODE cores=$CORES
	[ "$MODE" != all ] || modes="plain upstream-tls tls"
	[ "$CORES" != all ] || cores="1 2"
	for c in $cores; do
		for m in $modes; do
			MODE=$m CORES=$c "$0"
		done
	done
	exit 0
fi
case $MODE in
plain) UP_SCHEME=http CLIENT_SCHEME=http DEFAULT_PROXIES="ceiling cutover nginx haproxy caddy" ;;
upstream-tls) UP_SCHEME=https CLIENT_SCHEME=http DEFAULT_PROXIES="ceiling cutover nginx haproxy" ;;
tls) UP_SCHEME=https CLIENT_SCHEME=https DEFAULT_PROXIES="ceiling cutover nginx haproxy" ;;
*) echo "MODE=$MODE: want plain, upstream-tls or tls" >&2; exit 2 ;;
esac
case $CORES in
2) PROXY_PIN="" LOAD_PIN="" WORKERS=auto NBTHREAD=2 GMP="" DEFAULT_THREADS=2 ;;
1) PROXY_PIN="taskset -c 0" LOAD_PIN="taskset -c 1" WORKERS=1 NBTHREAD=1 GMP=1 DEFAULT_THREADS=1 ;;
*) echo "CORES=$CORES: want 1 or 2" >&2; exit 2 ;;
esac
THREADS=${THREADS:-$DEFAULT_THREADS}
case " ${PROXIES:-} " in
*" caddy "*) [ "$MODE" = plain ] || { echo "caddy is measured in MODE=plain only" >&2; exit 2; } ;;
esac
CONNS=${CONNS:-64}
WARMUP=${WARMUP:-2s}
PROXIES=${PROXIES:-$DEFAULT_PROXIES}
PROFILE=${PROFILE:-}
BASELINE=${BASELINE:-}
[ -z "$BASELINE" ] || PROXIES="$PROXIES baseline"

UP_PORT=18000
declare -A PORT=([ceiling]=18000 [nginx]=18081 [haproxy]=18082 [caddy]=18083 [cutover]=18084 [baseline]=18085)
declare -A HOST=([ceiling]=cdn-new.example.com)
MARKER="ok-new-cdn"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
case " $PROXIES " in *" caddy "*) command -v caddy >/dev/null || need+=(caddy) ;; esac
command -v wrk >/dev/null || need+=(wrk)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

echo "building upstream and cutover" >&2
(cd "$ROOT" && go build -o "$T/upstream" ./bench/bridge/upstream && go build -o "$T/cutover" ./cmd/cutover)

# --- certificates (TLS modes) -------------------------------------------------
NGX_LISTEN_SSL="" NGX_CERTS="" NGX_UP_TLS="" HAP_BIND_SSL="" HAP_SERVER_SSL=""
BRIDGE_LISTEN="{http: 127.0.0.1:${PORT[cutover]}}"
if [ "$MODE" != plain ]; then
	ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@" 2>/dev/null; }
	ec -x509 -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj "/CN=bridge bench CA"
	for name in cdn-new.example.com cdn.example.com; do
		ec -keyout "$T/$name.key" -out "$T/$name.csr" -subj "/CN=$name"
		printf 'subjectAltName=DNS:%s\n' "$name" >"$T/$name.ext"
		openssl x509 -req -in "$T/$name.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
			-out "$T/$name.pem" -days 2 -extfile "$T/$name.ext" 2>/dev/null
		cat "$T/$name.pem" "$T/$name.key" >"$T/$name.combined.pem"
	done
	UP_TLS_FLAGS="-tls-cert $T/cdn-new.example.com.pem -tls-key $T/cdn-new.example.com.key"
	NGX_UP_TLS="proxy_ssl_server_name on; proxy_ssl_name cdn-new.example.com; proxy_ssl_verify on; proxy_ssl_trusted_certificate $T/ca.pem; proxy_ssl_session_reuse on;"
	HAP_SERVER_SSL="ssl sni str(cdn-new.example.com) verify required verifyhost cdn-new.example.com ca-file $T/ca.pem"
	if [ "$MODE" = tls ]; then
		NGX_LISTEN_SSL=ssl
		NGX_CERTS="ssl_certificate $T/cdn.example.com.pem; ssl_certificate_key $T/cdn.example.com.key;"
		HAP_BIND_SSL="ssl crt $T/cdn.example.com.combined.pem"
		BRIDGE_LISTEN="{https: {addr: 127.0.0.1:${PORT[cutover]}, certificates: [{cert: $T/cdn.example.com.pem, key: $T/cdn.example.com.key}]}}"
	fi
fi

# --- configurations ---------------------------------------------------------
mkdir -p "$T/nginx"
cat >"$T/nginx/nginx.conf" <<CONF
worker_processes $WORKERS;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $T/nginx/body;
  proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fastcgi;
  uwsgi_temp_path $T/nginx/uwsgi;
  scgi_temp_path $T/nginx/scgi;
  upstream newcdn { server 127.0.0.1:$UP_PORT; keepalive 256; }
  $NGX_CERTS
  server {
    listen 127.0.0.1:${PORT[nginx]} $NGX_LISTEN_SSL default_server;
    return 421;
  }
  server {
    listen 127.0.0.1:${PORT[nginx]} $NGX_LISTEN_SSL;
    server_name cdn.example.com;
    location / {
      proxy_pass $UP_SCHEME://newcdn;
      $NGX_UP_TLS
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host cdn-new.example.com;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF

cat >"$T/haproxy.cfg" <<CONF
global
  maxconn 4096
  nbthread $NBTHREAD
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${PORT[haproxy]} $HAP_BIND_SSL
  acl routed hdr(host),field(1,:) -i cdn.example.com
  http-request deny deny_status 421 unless routed
  default_backend newcdn
backend newcdn
  http-reuse always
  option forwardfor
  http-request set-header Host cdn-new.example.com
  server s1 127.0.0.1:$UP_PORT $HAP_SERVER_SSL
CONF

cat >"$T/Caddyfile" <<CONF
{
  admin off
  auto_https off
}
http://cdn.example.com:${PORT[caddy]} {
  bind 127.0.0.1
  reverse_proxy 127.0.0.1:$UP_PORT {
    header_up Host cdn-new.example.com
  }
}
CONF

cat >"$T/bridge.yaml" <<CONF
listeners: $BRIDGE_LISTEN
upstream_tls: {ca: "$([ "$MODE" = plain ] || echo "$T/ca.pem")"}
metrics: 127.0.0.1:18094
debug_pprof: $([ -n "$PROFILE" ] && echo true || echo false)
routes:
  - host: cdn.example.com
    upstreams: [$UP_SCHEME://127.0.0.1:$UP_PORT]
    rewrite_host: cdn-new.example.com
    max_concurrent: 4096
CONF

sed -e "s/:${PORT[cutover]}/:${PORT[baseline]}/" -e 's/:18094/:18095/' "$T/bridge.yaml" >"$T/baseline.yaml"

# --- start ------------------------------------------------------------------
# shellcheck disable=SC2086 # word splitting of the pin and TLS flags is wanted
$LOAD_PIN "$T/upstream" -addr 127.0.0.1:$UP_PORT -marker "$MARKER" ${UP_TLS_FLAGS:-} & PIDS+=($!)
declare -A PID_OF=()
for p in $PROXIES; do
	case $p in
	nginx) $PROXY_PIN nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx.log" & PIDS+=($!) ;;
	haproxy) $PROXY_PIN haproxy -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 & PIDS+=($!) ;;
	caddy) HOME=$T XDG_DATA_HOME=$T XDG_CONFIG_HOME=$T GOMAXPROCS=$GMP $PROXY_PIN caddy run --config "$T/Caddyfile" --adapter caddyfile >"$T/caddy.log" 2>&1 & PIDS+=($!) ;;
	cutover) GOMAXPROCS=$GMP $PROXY_PIN "$T/cutover" bridge -c "$T/bridge.yaml" 2>"$T/cutover.log" & PIDS+=($!) ;;
	baseline) GOMAXPROCS=$GMP $PROXY_PIN "$BASELINE" bridge -c "$T/baseline.yaml" 2>"$T/baseline.log" & PIDS+=($!) ;;
	esac
	[ "$p" = ceiling ] || PID_OF[$p]=$!
done

host() { echo "${HOST[$1]:-cdn.example.com}"; }
url() { # what wrk and curl ask: the upstream itself for the ceiling
	if [ "$1" = ceiling ]; then echo "$UP_SCHEME://127.0.0.1:$UP_PORT/ruok"; else echo "$CLIENT_SCHEME://127.0.0.1:${PORT[$1]}/ruok"; fi
}
# -k: the client side's certificate names cdn.example.com, not 127.0.0.1;
# the proxies' upstream side is what verifies, and that is configured above.
check() { curl -sk --max-time 2 -H "Host: $(host "$1")" "$(url "$1")"; }
for p in $PROXIES; do
	for _ in $(seq 50); do
		[ "$(check "$p" || true)" = "$MARKER" ] && break
		sleep 0.2
	done
	got=$(check "$p" || true)
	if [ "$got" != "$MARKER" ]; then
		echo "$p did not return the upstream's marker for the rewritten Host (got: $got)" >&2
		tail -n 20 "$T/$p.log" "$T/nginx/error.log" 2>/dev/null >&2 || true
		exit 1
	fi
	[ "$p" = ceiling ] && continue
	other=$(curl -sk -o /dev/null -w '%{http_code}' -H "Host: evil.example.net" "$(url "$p")" || true)
	echo "$p: marker ok; unknown Host -> $other" >&2
done

# --- measure ----------------------------------------------------------------
to_ms() { # wrk latency like 812.00us, 1.23ms, 1.02s
	awk -v v="$1" 'BEGIN{ if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v } else if (v ~ /s$/) { sub(/s$/,"",v); print v*1000 } else print v }'
}
for p in $PROXIES; do
	$LOAD_PIN wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -H "Host: $(host "$p")" "$(url "$p")" >/dev/null
done
secs=${DURATION%s}
profile() { # CPU and allocation profile of a bridge while wrk runs: profile name metrics-port
	local dir=$PROFILE/$1
	mkdir -p "$dir"
	sleep 1
	curl -s -o "$dir/cpu.pprof" "http://127.0.0.1:$2/debug/pprof/profile?seconds=$((secs - 2))"
	curl -s -o "$dir/allocs.pprof" "http://127.0.0.1:$2/debug/pprof/allocs"
	curl -s -o "$dir/metrics.txt" "http://127.0.0.1:$2/metrics"
	if [ "$1" = cutover ]; then cp "$T/cutover" "$dir/bin"; else cp "$BASELINE" "$dir/bin"; fi
}
# CPU time (user + system, clock ticks) of a proxy: the process and its
# children (nginx's workers), from /proc/PID/stat fields 14 and 15.
cpu_ticks() {
	local total=0 p
	[ -n "${1:-}" ] || { echo 0; return; }
	for p in $1 $(pgrep -P "$1" || true); do
		[ -r "/proc/$p/stat" ] || continue
		total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo "$total"
}
HZ=$(getconf CLK_TCK)
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
: >"$T/results"
for r in $(seq "$ROUNDS"); do
	for p in $PROXIES; do
		prof=
		if [ -n "$PROFILE" ] && [ "$r" = 1 ]; then
			case $p in
			cutover) profile cutover 18094 & prof=$! ;;
			baseline) profile baseline 18095 & prof=$! ;;
			esac
		fi
		c0=$(cpu_ticks "${PID_OF[$p]:-}")
		out=$($LOAD_PIN wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Host: $(host "$p")" "$(url "$p")")
		[ -z "$prof" ] || wait "$prof"
		rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
		p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
		p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
		errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
		c1=$(cpu_ticks "${PID_OF[$p]:-}")
		# CPU per request in microseconds (wrk's total is what it counted
		# in the run; profiling rounds include the profiler's own cost).
		reqs=$(awk '/requests in/ {print $1}' <<<"$out")
		cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="$reqs" 'BEGIN { if (n > 0 && d > 0) printf "%.1f", d / hz * 1e6 / n; else print 0 }')
		echo "$p $r $rps $p50 $p99 $cpu" >>"$T/results"
		printf 'round %d %-8s %10.0f req/s  p50 %6.2f ms  p99 %6.2f ms  cpu %5.1f us/req %s\n' "$r" "$p" "$rps" "$p50" "$p99" "$cpu" "$errs" >&2
	done
done

# --- report -----------------------------------------------------------------
echo
echo "machine: $(nproc) cores, $(uname -sr); MODE=$MODE CORES=$CORES; wrk -t$THREADS -c$CONNS -d$DURATION x $ROUNDS rounds (interleaved); load average at start $LOAD0, at end $(cut -d" " -f1-3 /proc/loadavg)"
echo
echo "| proxy | req/s (mean) | p50 ms (median) | p99 ms (median) | CPU µs/req (median) | ours/peer req/s | ours/peer p99 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
awk '
{ n[$1]++; rps[$1]+=$3; p50[$1,n[$1]]=$4; p99[$1,n[$1]]=$5; cpu[$1,n[$1]]=$6; order[$1]=order[$1] ? order[$1] : ++k; names[k]=$1 }
function med(arr, p, c,   i, j, t, v) { for (i=1;i<=c;i++) v[i]=arr[p,i]; for (i=1;i<=c;i++) for (j=i+1;j<=c;j++) if (v[j]<v[i]) { t=v[i]; v[i]=v[j]; v[j]=t }; return v[int((c+1)/2)] }
END {
  ours="cutover"; orps=rps[ours]/n[ours]; op99=med(p99, ours, n[ours])
  for (i=1;i<=k;i++) { p=names[i]; m=rps[p]/n[p]; q=med(p99,p,n[p])
    c=med(cpu,p,n[p]); cs=(c > 0) ? sprintf("%.1f", c) : "-"
    printf "| %s | %.0f | %.2f | %.2f | %s | %.2f | %.2f |\n", p, m, med(p50,p,n[p]), q, cs, orps/m, op99/q }
}' "$T/results"
