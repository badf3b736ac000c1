"""Storage that lasts years: what the tables cost (report), how long each category of data is
kept (retention), the Parquet cold tier that old chunks move to, and reads across both tiers."""
