"""HJ 212, the data-transmission protocol of pollution-source online monitoring, as pure code.

No I/O here (no sockets, files or database): bytes and text in, values out, so that the
platform's gateway (``ingest.hj212``), the simulator's data loggers (``device_sim``) and any
client of an upstream platform share one implementation and test it alone.

- :mod:`hj212.crc`: the standard's CRC-16 (:func:`~hj212.crc.crc16`, :func:`~hj212.crc.crc_hex`).
- :mod:`hj212.frame`: ``##`` + length + segment + CRC + CR LF; :func:`~hj212.frame.encode_frame`,
  :func:`~hj212.frame.parse_frame` and :class:`~hj212.frame.FrameScanner` for a byte stream.
- :mod:`hj212.packet`: the data segment; :func:`~hj212.packet.decode_frame` and
  :func:`~hj212.packet.parse_segment` give a :class:`~hj212.packet.Packet`.
- :mod:`hj212.encode`: data packets as a logger sends them (split to the segment limit) and the
  replies 9011/9014.
- :mod:`hj212.reassembly`: split packets (PNUM/PNO) back into one upload.
- :mod:`hj212.codes`: versions, flags, command numbers, pollutant codes of 2005 and 2017, data
  flags, field suffixes; :mod:`hj212.errors`: the stable reason codes of a refusal.
- :mod:`hj212.describe`: one packet as a JSON-ready dict.

Which pollutant code is which catalogue metric is the platform's business, not the protocol's:
``smartpark.hj212_metrics``.
"""
