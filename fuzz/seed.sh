#!/usr/bin/env bash
# Builds the seed corpora of both targets from the recorded real traffic
# (default ../../shared/recordings relative to this directory, as in CI; or pass the path).
set -euo pipefail
cd "$(dirname "$0")"
rec="${1:-../../shared/recordings}"
mkdir -p corpus/request_decoder corpus/response_decoder
n=0
for f in "$rec"/*/*.request.xml; do
  # The first byte picks the endpoint: 0 Connector, 1 Zend, 2 Python (tiny registry), 3 server.
  for sel in 0 1 2 3; do
    { printf "\\x$(printf %02x $sel)"; cat "$f"; } > "corpus/request_decoder/$(basename "$f").$sel"
  done
  n=$((n + 1))
done
for f in "$rec"/*/*.response.xml; do
  cp "$f" corpus/response_decoder/
done
echo "seeded $n requests and $(ls corpus/response_decoder | wc -l) responses"
