# Sourced by scripts/fuzz-api and scripts/bench-api: a disposable platform served by a real
# `pgperm serve` on a free loopback port, with a superadmin and a tenant ("fuzz") whose
# initial admin are both signed in. Sets: base, admin_cookie, tenant_cookie, work.
# Needs: $pgperm (the binary) and $python (a Python 3).

work=$(mktemp -d /tmp/pgperm-live-XXXXXX)
server=""
stop_live_platform() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  "$pgperm" down --data-dir "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop_live_platform EXIT
chmod 755 "$work"  # the cluster runs as the postgres OS user when we are root

export TENANT_ENCRYPTION_KEY=$("$python" -c 'import secrets; print(secrets.token_hex(32))')
platform=(--data-dir "$work/pg" --env-file "$work/none.env")
"$pgperm" up --data-dir "$work/pg" >/dev/null
printf 'fuzzing-passphrase\n' | "$pgperm" admin create --email fuzz@example.com --superadmin --password-stdin "${platform[@]}" >/dev/null
"$pgperm" tenant create --name Fuzz --slug fuzz "${platform[@]}" >/dev/null
credentials=$("$pgperm" tenant credentials fuzz "${platform[@]}")
tenant_user=$(sed -n 's/^admin email: *//p' <<<"$credentials")
tenant_password=$(sed -n 's/^admin password: *//p' <<<"$credentials")

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$pgperm" serve --port "$port" "${platform[@]}" >"$work/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/admin/api/openapi.json" >/dev/null 2>&1 && break; sleep 0.1; done

# Signs in and prints the Cookie header value the server set.
sign_in() {
  curl -fs -o /dev/null -c "$work/jar" -X POST "$1" -H 'Content-Type: application/json' -d "$2"
  awk '$0 !~ /^#/ || $0 ~ /^#HttpOnly_/ { if (NF >= 7) printf "%s=%s", $6, $7 }' "$work/jar"
  rm -f "$work/jar"
}
admin_cookie=$(sign_in "$base/admin/api/session" '{"email": "fuzz@example.com", "password": "fuzzing-passphrase"}')
tenant_cookie=$(sign_in "$base/t/fuzz/api/session" "{\"username\": \"$tenant_user\", \"password\": \"$tenant_password\"}")
