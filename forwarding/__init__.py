"""Data to the environment regulators: HJ 212 packets forwarded to upstream platforms.

`store` owns the packet log and the outbox, `wire` builds the frames a target receives, `link`
delivers one target's outbox over TCP, `service` is `smartpark hj212 forward`.
"""
