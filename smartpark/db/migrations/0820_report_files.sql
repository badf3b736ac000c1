-- report_files(report_id bigserial pk, kind /* daily | monthly */, park_id, enterprise_id null
--     /* null: the park's own report */, period date /* the day, or the month's first day */,
--     title, xlsx bytea, pdf bytea, created_at, created_by /* 'scheduler' or 'api:<user>' */,
--     emailed_at null, email_error null): the generated report packs, one per (kind, park,
--     enterprise, period); generating again replaces the files. Owner: reports/store.py.
CREATE TABLE report_files (
    report_id     bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('daily', 'monthly')),
    park_id       int NOT NULL REFERENCES parks ON DELETE CASCADE,
    enterprise_id int REFERENCES enterprises ON DELETE CASCADE,
    period        date NOT NULL CHECK (kind = 'daily' OR extract(day FROM period) = 1),
    title         text NOT NULL,
    xlsx          bytea NOT NULL,
    pdf           bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    emailed_at    timestamptz,
    email_error   text
);
CREATE UNIQUE INDEX report_files_one ON report_files (kind, park_id, coalesce(enterprise_id, 0), period);
CREATE INDEX report_files_list ON report_files (park_id, period DESC);
