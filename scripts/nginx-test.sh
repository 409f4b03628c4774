#!/usr/bin/env bash
# nginx-test.sh runs polyconnect behind a real nginx (Debian's package, installed here when
# missing): three replica processes of a test server (bench/cmd/faultload serve: h2c and
# HTTP/1.1 on one port each), nginx in front with TLS and HTTP/2 towards the client, grpc_pass
# (gRPC over HTTP/2) and proxy_pass (HTTP/1.1: Connect, gRPC-Web) towards the replicas. It
#   1. calls every protocol and stream kind through nginx over HTTP/2 and HTTP/1.1 with our
#      client (faultload check prints what works and what the path cannot carry, and why): all of
#      them work, full-duplex bidi included (nginx streams both ways with proxy_buffering and
#      proxy_request_buffering off), except gRPC from an HTTP/1.1 client, which gRPC does not
#      allow (it is tried, and must fail cleanly or work, never hang);
#   2. kills one replica with SIGKILL in the middle of a load run (32 callers, Connect, gRPC and
#      gRPC-Web in turn, with a retry interceptor) and fails if any idempotent call failed.
# Everything listens on 127.0.0.1 and everything it starts is stopped on exit.
#
#   bash scripts/nginx-test.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# --- nginx, from Debian's packages, installed once.
nginx_bin="$(command -v nginx || true)"
[[ -z "$nginx_bin" && -x /usr/sbin/nginx ]] && nginx_bin=/usr/sbin/nginx
if [[ -z "$nginx_bin" ]]; then
	sudo=()
	[[ "$(id -u)" != 0 ]] && sudo=(sudo)
	# Keep the package from starting a system-wide nginx on port 80: a policy-rc.d that says
	# "no" for the duration of the install, unless one is there already.
	policy_added=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
		"${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
		policy_added=1
	fi
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends nginx >/dev/null
	((policy_added)) && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
	nginx_bin=/usr/sbin/nginx
fi
echo "nginx: $("$nginx_bin" -v 2>&1)"

tmp="$(mktemp -d)"
pids=()
nginx_pid=""
cleanup() {
	# nginx's master stops its workers on SIGTERM (a SIGKILL would orphan them).
	if [[ -n "$nginx_pid" ]]; then
		kill -TERM "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
	fi
	for pid in "${pids[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- the test server and client.
(cd "$root/bench" && GOWORK=off go build -o "$tmp/faultload" ./cmd/faultload)
fl="$tmp/faultload"
"$fl" certs -dir "$tmp" -host localhost,127.0.0.1

# --- three replicas.
replica_addrs=()
replica_pids=()
for i in 1 2 3; do
	"$fl" serve -addr 127.0.0.1:0 -name "r$i" >"$tmp/r$i.out" 2>&1 &
	pid=$!
	pids+=("$pid")
	replica_pids+=("$pid")
	for _ in $(seq 100); do
		grep -q '^listening ' "$tmp/r$i.out" && break
		sleep 0.1
	done
	addr="$(sed -n 's/^listening //p' "$tmp/r$i.out")"
	[[ -n "$addr" ]] || { echo "replica r$i did not start:" >&2; cat "$tmp/r$i.out" >&2; exit 1; }
	replica_addrs+=("$addr")
done
echo "replicas: ${replica_addrs[*]}"

servers=""
for a in "${replica_addrs[@]}"; do
	servers+="        server $a max_fails=1 fail_timeout=5s;"$'\n'
done
user_line=""
[[ "$(id -u)" == 0 ]] && user_line="user root root;"

# --- nginx on a free port (retried if another process takes it first).
started=0
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;

    # gRPC (not gRPC-Web) goes to the replicas over HTTP/2 with grpc_pass.
    map \$http_content_type \$is_grpc {
        default 0;
        "~^application/grpc(\\+[a-z]+)?(;.*)?\$" 1;
    }
    upstream grpc_replicas {
$servers        keepalive 32;
    }
    upstream http_replicas {
$servers        keepalive 32;
    }
    server {
        listen 127.0.0.1:$port ssl http2;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        client_max_body_size 0;

        location / {
            error_page 418 = @grpc;
            if (\$is_grpc) {
                return 418;
            }
            # Connect and gRPC-Web: HTTP/1.1 to the replicas, streamed both ways.
            proxy_pass http://http_replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 60s;
        }
        location @grpc {
            grpc_pass grpc://grpc_replicas;
            grpc_read_timeout 60s;
            grpc_send_timeout 60s;
        }
    }
}
CONF
	"$nginx_bin" -t -q -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx.conf"
	"$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx.conf" &
	nginx_pid=$!
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			started=1
			break
		fi
		kill -0 "$nginx_pid" 2>/dev/null || break
		sleep 0.1
	done
	((started)) && break
	kill -TERM "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=""
done
((started)) || { echo "nginx did not start:" >&2; cat "$tmp/nginx/error.log" >&2; exit 1; }
target="https://127.0.0.1:$port"
echo "nginx: $target"

# --- 1. every protocol and stream kind through nginx.
echo
echo "--- protocols and stream kinds through nginx"
"$fl" check -target "$target" -ca "$tmp/ca.pem"

# --- 2. a replica killed under load.
echo
echo "--- replica r2 killed under load"
"$fl" -target "$target" -ca "$tmp/ca.pem" -transport h2 -d 10s -c 32 -stream-every 0 &
load_pid=$!
pids+=("$load_pid")
sleep 4
kill -9 "${replica_pids[1]}"
wait "${replica_pids[1]}" 2>/dev/null || true
echo "killed r2 (pid ${replica_pids[1]})"
if ! wait "$load_pid"; then
	echo "nginx error log:" >&2
	tail -20 "$tmp/nginx/error.log" >&2
	exit 1
fi
echo "nginx: ok"
