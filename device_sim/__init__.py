"""The simulated park: a generated model, realistic signals, faults, and gateways that publish.

model (generate / read the registry YAML) → signals (pure, vectorised, seeded) → simulation
(readings per gateway and round, faults) → publisher (MQTT, one account per gateway) or hj212
(data loggers over TCP). :mod:`device_sim.load` is the API other components drive it with.
"""
