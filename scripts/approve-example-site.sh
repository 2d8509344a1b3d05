#!/usr/bin/env bash
# Re-approve the example site's layout/settings (theme, plugins, settings, guideline) with
# the test approver's key, after a change of those files in this repository. Only for the
# example: its approver key is a test key that lives in tests/fixtures/keys/.
set -euo pipefail
cd "$(dirname "$0")/.."
key=$(mktemp -d)/approver
trap 'rm -rf "$(dirname "$key")"' EXIT
cp tests/fixtures/keys/approver_ed25519 "$key"
chmod 600 "$key"
.venv/bin/dialogpress approve --site --yes --key "$key" --now "${1:-2026-11-20 09:00}" \
    --comment "Layout, Einstellungen und Leitfaden geprüft."
