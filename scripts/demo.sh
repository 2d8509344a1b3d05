#!/usr/bin/env bash
# The main job on the example site: check every piece, then build the site.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "== Checking every post and snippet =="
$BIN/dialogpress check
echo
echo "== Building the site =="
$BIN/dialogpress build
echo
echo "Look at it: $BIN/dialogpress serve   then open http://127.0.0.1:8000/"
