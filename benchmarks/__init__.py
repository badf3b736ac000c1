"""The benchmarks behind `smartpark bench NAME`: one module per area and one harness.

They live beside the product packages in the source tree and are neither in the wheel nor in the
image; no product package imports them. Figures and how to read them: docs/benchmarks.md.
"""
