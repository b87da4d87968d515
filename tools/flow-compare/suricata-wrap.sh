#!/bin/bash
# Suricata wrapper for suricata-diff: appends Suricata-only settings of a test
# (keys mirador does not accept, e.g. stream.midstream-policy) read from
# $FLOWDIFF_SURI_EXTRA (one argument per line). --build-info passes through.
extra=()
if [ -n "$FLOWDIFF_SURI_EXTRA" ] && [ "$1" != "--build-info" ]; then
  while IFS= read -r a; do [ -n "$a" ] && extra+=("$a"); done <<< "$FLOWDIFF_SURI_EXTRA"
fi
exec /usr/bin/suricata "$@" "${extra[@]}"
