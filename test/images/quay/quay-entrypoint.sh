#!/bin/sh
# Quay's entrypoint takes a mode (registry, registry-nomigrate, migrate <rev>, ...): validate the config,
# migrate (not in registry-nomigrate), then serve; migrate <rev|head> migrates and exits.
exec /usr/bin/node /quay-registry/standin/main.mjs "$@"
