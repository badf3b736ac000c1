#!/bin/sh
# Create the dynamic-security file with the admin account on first start; keep it afterwards.
set -eu
file=/mosquitto/data/dynamic-security.json
if [ ! -f "$file" ]; then
  mosquitto_ctrl dynsec init "$file" smartpark-admin "$MQTT_ADMIN_PASSWORD"
  chown mosquitto:mosquitto "$file" 2>/dev/null || true
fi
