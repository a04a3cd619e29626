#!/bin/sh
# Quay's entrypoint takes a mode (registry, registry-nomigrate, migrate <rev>, ...); the stand-in
# serves for the registry modes and treats migrate as "create my table and exit".
exec /usr/bin/node /quay-registry/standin/main.mjs "$@"
