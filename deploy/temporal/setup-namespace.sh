#!/bin/sh
# One-shot (compose service `temporal-namespace`, image temporalio/admin-tools), once the server is up:
# creates the namespace with TEMPORAL_RETENTION (or sets that retention on an existing one) and registers
# the search attributes the seller workflow sets (workflows/definitions.ts SEARCH_ATTRIBUTE_REGISTRATIONS).
# Safe to re-run. The steps follow Temporal's own (temporalio/samples-server compose/scripts/
# create-namespace.sh; the retention and search-attribute steps of the deprecated auto-setup.sh).
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS (host:port of the frontend)}"
: "${TEMPORAL_RETENTION:?set TEMPORAL_RETENTION (how long closed workflow histories are kept, e.g. 720h)}"
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
MAX_TRIES=${SETUP_MAX_TRIES:-60}

retry() {
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt "$MAX_TRIES" ] || { echo "gave up after ${MAX_TRIES} tries: $*" >&2; return 1; }
    sleep 2
  done
}

echo "waiting for Temporal at ${TEMPORAL_ADDRESS}"
retry temporal operator cluster health --address "$TEMPORAL_ADDRESS"

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace update --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" --retention "$TEMPORAL_RETENTION"
  echo "namespace ${NAMESPACE}: retention set to ${TEMPORAL_RETENTION}"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" \
    --retention "$TEMPORAL_RETENTION" --description "otto-connect seller connections"
  echo "namespace ${NAMESPACE}: created, retention ${TEMPORAL_RETENTION}"
fi

# A new namespace reaches the server's namespace cache within seconds.
retry temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE"

register() {
  temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" --name "$1" --type "$2" \
    || temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" | grep -qw "$1"
}
register OttoSellerId Keyword
register OttoConnectionState Keyword
register OttoAppVersion Keyword
register OttoPartnerId Keyword
echo "search attributes registered in ${NAMESPACE}"
