"""HJ 212 gateway: CEMS and water-analyser data loggers (数采仪) speaking HJ 212 over TCP.

The protocol itself is the top-level package ``hj212`` (pure). Here is the server side: the
catalogue mapping of packets into readings (``mapping``, pure) apart from I/O (``server``,
``publisher``, ``directory``, ``rejections``, ``service``).
"""
