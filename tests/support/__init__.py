"""Shared helpers of the test suite, one module per concern.

- waiting: wait until a condition holds, with a message that says what was awaited
- ports: free local TCP ports for servers the tests start
- factories: small registry models with unique codes, and their credentials
- readings: store readings the way ingest does, and look up ids
- ingest: ingest processes, gateway publishers, counting what was stored
- alerting: the alerting service in a thread, a gateway publisher, scoped rules
- hj212: HJ 212 frames and packets built with the project's encoder
"""
