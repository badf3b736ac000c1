"""Local services owned by smartpark: a TimescaleDB cluster and a Mosquitto broker."""
