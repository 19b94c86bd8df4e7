#!/bin/sh
# The broker's password file, kept on the mosquitto-auth volume: entries for the lienwatch
# services from the environment (.env), every other line (the trackers') left as it is.
# mosquitto_passwd -b adds or replaces one user in place.
set -eu
file=/mosquitto/auth/passwd
touch "$file"
mosquitto_passwd -b "$file" lienwatch-ingest "$LIENWATCH_INGEST_MQTT_PASSWORD"
mosquitto_passwd -b "$file" lienwatch-api "$LIENWATCH_API_MQTT_PASSWORD"
if [ -n "${LIENWATCH_SIMULATOR_MQTT_PASSWORD:-}" ]; then
  mosquitto_passwd -b "$file" lienwatch-simulator "$LIENWATCH_SIMULATOR_MQTT_PASSWORD"
else
  mosquitto_passwd -D "$file" lienwatch-simulator 2>/dev/null || true
fi
# Read by the broker's own user; written by `lienwatch devices register`, which keeps the owner.
chown 1883:1883 "$file"
chmod 0600 "$file"
