-- rejected_messages, bounded (ingest/rejections.py): repeated refusals from one source for one
-- reason within a minute are one row with a count; received_at is the first of them and
-- last_seen the last. source is the topic's enterprise (MQTT) or the peer's address (HJ 212);
-- row_key lets the writer add to a row it created. Rows written before count once.

ALTER TABLE rejected_messages
    ADD COLUMN count     int NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN last_seen timestamptz,
    ADD COLUMN source    text NOT NULL DEFAULT '',
    ADD COLUMN row_key   bigint;
