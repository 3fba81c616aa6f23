#!/usr/bin/env bash
# Validates deploy/k8s/*.yaml offline against the Kubernetes API schemas (kubernetes-validate,
# strict: unknown fields fail) for the oldest and newest Kubernetes versions the manifests aim
# at, and checks that a misspelt field is caught. Installs deploy/requirements.txt into a venv
# (target/deploy-venv, or $SMISHD_DEPLOY_VENV).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${SMISHD_DEPLOY_VENV:-$repo/target/deploy-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$repo/deploy/requirements.txt"
validate=("$venv/bin/python" -m kubernetes_validate --strict --no-warn)

# 1.30: the first release with the preStop sleep action on by default.
for version in 1.30.0 1.37.0; do
    "${validate[@]}" -k "$version" "$here"/*.yaml
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilesytem: true/' "$here/deployment.yaml" >"$tmp/typo.yaml"
if "${validate[@]}" --quiet "$tmp/typo.yaml" >/dev/null 2>&1; then
    echo "FAIL: the validator accepted a misspelt field"
    exit 1
fi
echo "ok   deploy/k8s: every manifest valid for Kubernetes 1.30 and 1.37; a misspelt field is refused"
