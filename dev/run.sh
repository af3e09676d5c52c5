#!/usr/bin/env bash
# `make run`: database + demo data, then web and worker from the Procfile (honcho).
# Dev defaults (kept in var/ so restarts keep them): an admin token and a webhook signing secret.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"
export PORT="${PORT:-8000}"
mkdir -p var
if [ -z "${KS_ADMIN_TOKEN:-}" ]; then
  [ -s var/dev-admin-token ] || $PY -c 'import secrets; print("ks_dev_" + secrets.token_urlsafe(18))' > var/dev-admin-token
  KS_ADMIN_TOKEN="$(cat var/dev-admin-token)"
fi
if [ -z "${KS_ZENDESK_WEBHOOK_SECRET:-}" ]; then
  [ -s var/dev-webhook-secret ] || $PY -c 'import secrets; print(secrets.token_urlsafe(24))' > var/dev-webhook-secret
  KS_ZENDESK_WEBHOOK_SECRET="$(cat var/dev-webhook-secret)"
fi
export KS_ADMIN_TOKEN KS_ZENDESK_WEBHOOK_SECRET
export KS_DEMO_ENABLED="${KS_DEMO_ENABLED:-true}"      # the demo ticket pages, for trying it without Zendesk
export KS_SERVER_PUBLIC_URL="${KS_SERVER_PUBLIC_URL:-http://127.0.0.1:$PORT}"
$PY -m flask --app app init-db
$PY -m flask --app app demo
cat <<MSG

  Knowledge Sidecar is starting on  http://127.0.0.1:$PORT
  Admin API token:                  $KS_ADMIN_TOKEN
  Webhook signing secret:           $KS_ZENDESK_WEBHOOK_SECRET

  Next, in another terminal (this sends a signed Zendesk webhook for a new ticket):
    KS_ZENDESK_WEBHOOK_SECRET=$KS_ZENDESK_WEBHOOK_SECRET .venv/bin/flask --app app simulate-ticket \\
      --url http://127.0.0.1:$PORT "My parcel arrived damaged" "The mug is broken, can I get a refund?"
  then open the printed /demo/tickets/<id> link. Demo, reports and admin pages (sign in with the token):
    http://127.0.0.1:$PORT/reports    http://127.0.0.1:$PORT/admin
  or the API:
    curl -H "Authorization: Bearer $KS_ADMIN_TOKEN" http://127.0.0.1:$PORT/api/reports/reuse

MSG
exec .venv/bin/honcho -f Procfile start -p "$PORT"
