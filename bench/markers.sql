-- Deterministic markers bench/run.sh adds to a freshly seeded database (the cached copy),
-- so that the filtered and the full-text scenarios match about 1,000 records whatever the
-- number of grant requests: the seed's own values grow with the table (an organization has
-- ~4 grant requests at any size, a word of the summaries is in a fixed share of them).
-- Plain SQL that both engines run alike, in one transaction that bench/run.sh opens and
-- commits: through the sqlite3 CLI (BEGIN IMMEDIATE ... COMMIT, then a WAL checkpoint) and
-- through psql -1 (PostgreSQL). The schemas' triggers keep the full-text index and the
-- live-row counts in step, as they do for API writes.

-- Filter marker: 1,000 granted requests of the newer half of the table, evenly spaced by id,
-- move to the first organization. The filter then asks for state = granted, that
-- organization, and updated_at within the dates those requests span.
CREATE TEMP TABLE bench_filter AS
WITH g AS (
    SELECT id, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS c
    FROM grant_request
    WHERE state = 'granted' AND deleted_at IS NULL
      AND id > (SELECT max(id) / 2 FROM grant_request)
)
SELECT id FROM g WHERE (rn * 1000) / c > ((rn - 1) * 1000) / c;

UPDATE grant_request SET program_organization_id = (SELECT min(id) FROM organization)
WHERE id IN (SELECT id FROM bench_filter);

-- Full-text marker: 1,000 requests evenly spaced over the whole table (every state, every
-- year) end their summary with two words no seeded text has.
CREATE TEMP TABLE bench_fulltext AS
WITH g AS (
    SELECT id, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS c
    FROM grant_request
    WHERE deleted_at IS NULL
)
SELECT id FROM g WHERE (rn * 1000) / c > ((rn - 1) * 1000) / c;

UPDATE grant_request SET project_summary = project_summary || ' Kestrel cohort.'
WHERE id IN (SELECT id FROM bench_fulltext);
