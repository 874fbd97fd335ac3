#!/bin/sh
# Installs the Debian packages named as arguments that are not installed yet.
# As root it runs apt-get; otherwise it prints the command to run.
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
        echo "apt-get install failed for:$missing" >&2; exit 1; }
else
    echo "missing Debian packages:$missing" >&2
    echo "run: sudo apt-get install$missing" >&2
    exit 1
fi
