-- Article 21's science-and-innovation and industrial-concentration statistics.
--
-- economic_monthly.rd_expense     float8  R&D spending of the month, 10⁴ yuan (研发经费支出);
--                                         NULL when not reported. CSV column rd_expense (optional).
-- indicator_monthly.rd_expense    float8  the same, summed over reporting enterprises on park rows
-- indicator_monthly.leading_industry_share
--                                 float8  park rows: share of the park's output value made by its
--                                         largest industry (enterprises.industry), among the
--                                         enterprises that reported output; NULL on enterprise
--                                         rows and when no output was reported
--
-- A park's designated class (Article 13's decision) is the park attribute designated_class
-- (1 or 2); the Article 22 check of three consecutive years below the class uses it.

ALTER TABLE economic_monthly ADD COLUMN rd_expense float8 CHECK (rd_expense >= 0);
ALTER TABLE indicator_monthly
    ADD COLUMN rd_expense float8,
    ADD COLUMN leading_industry_share float8;
