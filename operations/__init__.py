"""Running smartpark on one machine: the local services, the supervisor and the demo preparation.

The runtime packages (smartpark, ingest, alerting, aggregation, api, device_sim) never import this
package: what they need of the local services reaches them as URLs in their settings
(``SMARTPARK_DATABASE_URL``, ``SMARTPARK_MQTT_URL``, ``SMARTPARK_MQTT_ADMIN_URL``), which the
operations side resolves from the local credentials file and passes to the processes it starts.
"""
