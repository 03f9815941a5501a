#!/usr/bin/env bash
# docs/production.md, executed: every command of its walk-through, in order, on a Debian 12 machine
# as root (.ci/run runs it whenever it runs as root on Debian; tests/test_docs_production.py checks that the
# document and this script list the same commands). The release is this repository.
#
# Differences from a real machine, all marked "(ci)": the release is copied from this checkout
# instead of unpacked; without systemd as PID 1 (a CI container) the units' ExecStart lines are
# started directly, as user ar with the unit's EnvironmentFile; the self-signed snakeoil
# certificate stands in for the real one.
set -euxo pipefail
RELEASE="$(cd "$(dirname "$0")/.." && pwd)"

# ---- 1. system packages
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv postgresql redis-server chromium fonts-dejavu-core nginx ssl-cert curl

# ---- 2. a user and directories
id ar >/dev/null 2>&1 || useradd --system --home-dir /opt/ar-dashboard --shell /usr/sbin/nologin ar
install -d -o ar -g ar /opt/ar-dashboard /var/lib/ar-dashboard /var/lib/ar-dashboard/uploads /var/lib/ar-dashboard/snapshots
install -d -m 750 -o root -g ar /etc/ar-dashboard

# ---- 3. the release and its locked dependencies
umask 022
rm -rf /opt/ar-dashboard/app && mkdir /opt/ar-dashboard/app && tar -C "$RELEASE" --exclude=./.venv --exclude=./data --exclude=./.git -cf - . | tar -C /opt/ar-dashboard/app -xf -  # (ci) instead of unpacking the release tarball
chown -R ar:ar /opt/ar-dashboard/app
/usr/bin/python3 -m venv --clear /opt/ar-dashboard/venv
/opt/ar-dashboard/venv/bin/pip install --require-hashes -r /opt/ar-dashboard/app/requirements.lock
/opt/ar-dashboard/venv/bin/pip install --no-deps /opt/ar-dashboard/app

# ---- 4. PostgreSQL and Redis
runuser -u postgres -- dropdb --if-exists ar  # (ci) a re-run starts from an empty database, like a bare machine
runuser -u postgres -- psql -v ON_ERROR_STOP=1 -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ar') THEN CREATE ROLE ar LOGIN; END IF; END\$\$"
runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'ar'" | grep -q 1 || runuser -u postgres -- createdb --owner ar ar
redis-cli ping

# ---- 5. settings
install -m 640 -o root -g ar /opt/ar-dashboard/app/deploy/env.example /etc/ar-dashboard/env
sed -i "s/^SECRET_KEY=.*/SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')/" /etc/ar-dashboard/env
sed -i "s/^METRICS_TOKEN=.*/METRICS_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')/" /etc/ar-dashboard/env
cd /opt/ar-dashboard/app
set -a; . /etc/ar-dashboard/env; set +a
runuser -u ar -- /opt/ar-dashboard/venv/bin/python -m dashboard config
runuser -u ar -- /opt/ar-dashboard/venv/bin/python -m dashboard check

# ---- 6. release step: migrations, then the first admin
runuser -u ar -- /opt/ar-dashboard/venv/bin/python -m dashboard init-db
python3 -c 'import secrets; print(secrets.token_urlsafe(18))' > /root/ar-admin-password && chmod 600 /root/ar-admin-password
runuser -u ar -- /opt/ar-dashboard/venv/bin/python -m dashboard users add --username admin --role admin --password-stdin < /root/ar-admin-password

# ---- 7. services
install -m 644 /opt/ar-dashboard/app/deploy/*.service /etc/systemd/system/
systemd-analyze verify /etc/systemd/system/ar-dashboard-migrate.service /etc/systemd/system/ar-dashboard-web.service /etc/systemd/system/ar-dashboard-worker@1.service /etc/systemd/system/ar-dashboard-scheduler.service
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now ar-dashboard-migrate.service ar-dashboard-web.service ar-dashboard-worker@1.service ar-dashboard-scheduler.service
else  # (ci) no systemd: the units' ExecStart lines, as user ar, with their EnvironmentFile
  trap 'kill $(cat /run/ar-dashboard/*.pid 2>/dev/null) 2>/dev/null; nginx -s stop 2>/dev/null' EXIT  # (ci) stop them at the end, also on failure
  install -d -o ar -g ar /run/ar-dashboard /run/ar-dashboard/prometheus
  runuser -u ar -- env PROMETHEUS_MULTIPROC_DIR=/run/ar-dashboard/prometheus /opt/ar-dashboard/venv/bin/gunicorn -c gunicorn.conf.py app:server --daemon --pid /run/ar-dashboard/web.pid
  runuser -u ar -- sh -c 'echo $$ > /run/ar-dashboard/worker.pid; exec /opt/ar-dashboard/venv/bin/python -m dashboard worker' > /run/ar-dashboard/worker.log 2>&1 < /dev/null &
  runuser -u ar -- sh -c 'echo $$ > /run/ar-dashboard/scheduler.pid; exec /opt/ar-dashboard/venv/bin/python -m dashboard scheduler' > /run/ar-dashboard/scheduler.log 2>&1 < /dev/null &
fi

# ---- 8. the reverse proxy
install -m 644 /opt/ar-dashboard/app/deploy/nginx-ar-dashboard.conf /etc/nginx/sites-available/ar-dashboard
[ -f /etc/ssl/certs/ssl-cert-snakeoil.pem ] || make-ssl-cert generate-default-snakeoil --force-overwrite  # (ci) a self-signed stand-in
sed -i 's|/etc/ssl/certs/ar.example.com.pem|/etc/ssl/certs/ssl-cert-snakeoil.pem|; s|/etc/ssl/private/ar.example.com.key|/etc/ssl/private/ssl-cert-snakeoil.key|' /etc/nginx/sites-available/ar-dashboard  # (ci) the real certificate here
ln -sf /etc/nginx/sites-available/ar-dashboard /etc/nginx/sites-enabled/ar-dashboard
nginx -t
if [ -d /run/systemd/system ]; then systemctl reload nginx; else nginx -s reload 2>/dev/null || nginx; fi

# ---- 9. check it
timeout 60 sh -c 'until curl -fsS http://127.0.0.1:8050/healthz; do sleep 1; done'
timeout 300 sh -c 'until curl -fsS http://127.0.0.1:8050/readyz; do sleep 1; done'
timeout 300 sh -c 'until curl -fsSk --resolve ar.example.com:443:127.0.0.1 https://ar.example.com/readyz; do sleep 1; done'
curl -fsS -H "Authorization: Bearer $(grep '^METRICS_TOKEN=' /etc/ar-dashboard/env | cut -d= -f2-)" http://127.0.0.1:8050/metrics | grep '^ar_http_requests_total'
test "$(curl -s -o /dev/null -w '%{http_code}' -k --resolve ar.example.com:443:127.0.0.1 https://ar.example.com/metrics)" = 401

