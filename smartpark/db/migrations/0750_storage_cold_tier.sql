-- The cold tier's manifest (storage/manifest.py): which chunks of which hypertable went to Parquet
-- files, and where each step of their move stands.
--
-- storage_cold_chunks: one row per chunk being moved or moved. state: 'exporting' (its files are
--   planned and being written), 'exported' (written; rows and checksum of the source recorded),
--   'verified' (read back: same rows, same checksum), 'cold' (the chunk was dropped in the same
--   transaction that set this state). A chunk is in exactly one tier: hot while its row is not
--   'cold', cold once it is; readers take cold files of 'cold' chunks only.
-- storage_cold_files: the files of a chunk, one per (day, park, metric category), listed before
--   they are written so that a restart removes what an interrupted export left.
CREATE TABLE storage_cold_chunks (
    hypertable  text NOT NULL,
    chunk       text NOT NULL,
    range_start timestamptz NOT NULL,
    range_end   timestamptz NOT NULL,
    state       text NOT NULL CHECK (state IN ('exporting', 'exported', 'verified', 'cold')),
    rows        bigint,
    checksum    text,
    bytes       bigint,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hypertable, chunk)
);
CREATE INDEX storage_cold_chunks_range ON storage_cold_chunks (hypertable, range_start);

CREATE TABLE storage_cold_files (
    path       text PRIMARY KEY,
    hypertable text NOT NULL,
    chunk      text NOT NULL,
    day        date NOT NULL,
    park_id    int NOT NULL,
    category   text NOT NULL,
    rows       bigint NOT NULL,
    bytes      bigint,
    FOREIGN KEY (hypertable, chunk) REFERENCES storage_cold_chunks ON DELETE CASCADE
);
CREATE INDEX storage_cold_files_lookup ON storage_cold_files (hypertable, park_id, category, day);
