#!/usr/bin/env bash
# systemd-analyze verify on deploy/systemd/smishd.service, with ExecStart pointed at a built
# binary (verify checks that the command exists); any warning fails, as does an error. Prints
# the unit's exposure score from `systemd-analyze security`. Skipped, with a line saying so,
# where systemd-analyze is absent.
# usage: deploy/systemd/verify.sh SMISHD
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIPPED: systemd unit check: no systemd-analyze on this machine"
    exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed "s#/usr/local/bin/smishd#$bin#" "$here/smishd.service" >"$tmp/smishd.service"
grep -q "^ExecStart=$bin serve" "$tmp/smishd.service"
status=0
systemd-analyze verify "$tmp/smishd.service" >"$tmp/verify.log" 2>&1 || status=$?
if [ "$status" -ne 0 ] || [ -s "$tmp/verify.log" ]; then
    cat "$tmp/verify.log"
    echo "FAIL: systemd-analyze verify smishd.service (status $status)"
    exit 1
fi
echo "ok   systemd-analyze verify smishd.service: no errors, no warnings"
if systemd-analyze security --offline=yes "$tmp/smishd.service" >"$tmp/security.log" 2>&1; then
    grep 'Overall exposure level' "$tmp/security.log" | sed 's/^→ /     /'
fi
