"""HJ 212 gateway: CEMS and water-analyser data loggers (数采仪) speaking HJ 212 over TCP.

Pure protocol code (``crc``, ``frame``, ``packet``, ``codes``, ``encode``, ``reassembly``,
``mapping``) is kept apart from I/O (``server``, ``publisher``, ``directory``) so that it can be
tested and benchmarked alone.
"""
