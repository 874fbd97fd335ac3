#!/bin/sh
# make demo: a fresh demo.db with seeded data, an admin user and an OAuth client, then
# the server on 127.0.0.1:8080. Prints the credentials and a curl line to paste.
set -e
bin=${1:-build/grantd}
db=${DEMO_DB:-demo.db}
listen=${DEMO_LISTEN:-127.0.0.1:8080}
"$bin" init --db "$db" --force --site-url "http://$listen"
"$bin" seed --db "$db" --grants "${DEMO_GRANTS:-2000}"
echo demo-admin-password | "$bin" user add admin --role admin --password-stdin --db "$db" >/dev/null
creds=$("$bin" client add demo --owner admin --db "$db")
id=$(echo "$creds" | sed -n 's/^client_id=//p')
secret=$(echo "$creds" | sed -n 's/^client_secret=//p')
cat <<MSG

  admin login:    admin / demo-admin-password
  client_id:      $id
  client_secret:  $secret   (shown once; only its hash is stored)

  Paste this to list grant requests:

  TOKEN=\$(curl -s -d grant_type=client_credentials -d client_id=$id -d client_secret=$secret http://$listen/oauth/token | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/'); curl -s -g -H "Authorization: Bearer \$TOKEN" 'http://$listen/api/rest/v2/grant_request?cols=["project_summary","amount_requested","state"]&per_page=3'

MSG
exec "$bin" serve --db "$db" --listen "$listen"
