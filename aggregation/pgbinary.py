"""Kept only for the aggregation benchmark's import until it moves: the codec is
smartpark.db.binary_copy; product code imports it from there."""

from smartpark.db.binary_copy import HEADER, PG_EPOCH_MS, TRAILER, decode, decode_array, encode, row_dtype

__all__ = ["HEADER", "PG_EPOCH_MS", "TRAILER", "decode", "decode_array", "encode", "row_dtype"]
