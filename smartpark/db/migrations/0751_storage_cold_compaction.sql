-- Compacted cold files (storage/compaction.py): a month's daily files of one park and category
-- become one file, so a long read opens a dozen files instead of a file per day. Such a file
-- covers day .. last_day; a daily file has last_day = day. It keeps the chunk of its first day as
-- its chunk (a cold one), so readers' and expiry's joins stay as they are.
ALTER TABLE storage_cold_files ADD COLUMN last_day date;
UPDATE storage_cold_files SET last_day = day;
ALTER TABLE storage_cold_files ALTER COLUMN last_day SET NOT NULL, ADD CHECK (last_day >= day);
DROP INDEX storage_cold_files_lookup;
CREATE INDEX storage_cold_files_lookup ON storage_cold_files (hypertable, park_id, category, last_day, day);
