"""Exports and report packs: tables and charts as data (``reports.model``), rendered by generic
XLSX and PDF renderers, streamed CSV/XLSX exports, the scheduled daily and monthly packs."""
