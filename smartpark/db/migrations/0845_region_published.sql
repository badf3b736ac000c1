-- The region sends its results (Article 22: "reports the results to each league/city").
--
-- Region side:
--   region_publications: a year's results frozen when published: every park's row as ranked
--     then (class, figures, score, rank, flags, trend, missing packages, the revision of its
--     annual package that was used) and the evaluation method with its weights. A later
--     publication of the same year is a new row; the newest is the one in force.
--   region_league_receivers: the email receivers (alert_receivers, channel email) a league/city's
--     results go to.
--   region_publication_mail: one row per publication and league once its mail was tried.
-- Park side:
--   region_my_results: the park's own published result, fetched from the region.

CREATE TABLE region_publications (
    publication_id bigserial PRIMARY KEY,
    year           int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    published_at   timestamptz NOT NULL DEFAULT now(),
    method         jsonb NOT NULL,
    results        jsonb NOT NULL
);
CREATE INDEX region_publications_year_idx ON region_publications (year, publication_id DESC);

CREATE TABLE region_league_receivers (
    league      text NOT NULL CHECK (league ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    receiver_id int NOT NULL REFERENCES alert_receivers ON DELETE CASCADE,
    PRIMARY KEY (league, receiver_id)
);

CREATE TABLE region_publication_mail (
    publication_id bigint NOT NULL REFERENCES region_publications ON DELETE CASCADE,
    league         text NOT NULL,
    tried_at       timestamptz NOT NULL DEFAULT now(),
    error          text,
    PRIMARY KEY (publication_id, league)
);

-- (a row without a publication: the region was asked and had not published the year yet)
CREATE TABLE region_my_results (
    park_code      text NOT NULL,
    year           int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    publication_id bigint,
    published_at   timestamptz,
    result         jsonb,
    fetched_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (park_code, year),
    CHECK ((publication_id IS NULL) = (result IS NULL) AND (published_at IS NULL) = (result IS NULL))
);
