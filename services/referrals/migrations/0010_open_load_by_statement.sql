-- The open load's counter, kept once per statement instead of once per row: a statement's
-- changes are summed per institution and support type from its transition tables, and each
-- counter row is changed once. One referral per statement (routing) costs the same; a bulk
-- write (a restore by COPY, a large closure) no longer updates the same few counter rows once
-- per referral in one transaction, each update walking the versions the earlier ones left.
-- (IF EXISTS and OR REPLACE: a database may have applied this file under the number 0009,
-- which main held for a minute.)
DROP TRIGGER IF EXISTS referrals_open_load ON referrals;
DROP FUNCTION IF EXISTS referrals_open_load();

CREATE OR REPLACE FUNCTION referrals_open_load_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO institution_load AS l (institution_id, support_type, open_referrals)
    SELECT institution_id, support_type, count(*) FROM new_rows
    WHERE institution_id IS NOT NULL AND state IN ('assigned', 'accepted')
    GROUP BY institution_id, support_type
    ORDER BY institution_id, support_type
    ON CONFLICT (institution_id, support_type)
        DO UPDATE SET open_referrals = l.open_referrals + excluded.open_referrals;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_open_load_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE institution_load l SET open_referrals = l.open_referrals - d.n
    FROM (SELECT institution_id, support_type, count(*) AS n FROM old_rows
          WHERE institution_id IS NOT NULL AND state IN ('assigned', 'accepted')
          GROUP BY institution_id, support_type) d
    WHERE l.institution_id = d.institution_id AND l.support_type = d.support_type;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_open_load_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- places freed are subtracted, places taken added (an insertion's CHECK would refuse a
    -- negative count before ON CONFLICT could add it to the row)
    WITH delta AS (
        SELECT institution_id, support_type, sum(change) AS change FROM (
            SELECT institution_id, support_type, -1 AS change FROM old_rows
            WHERE institution_id IS NOT NULL AND state IN ('assigned', 'accepted')
            UNION ALL
            SELECT institution_id, support_type, 1 FROM new_rows
            WHERE institution_id IS NOT NULL AND state IN ('assigned', 'accepted')
        ) changes
        GROUP BY institution_id, support_type
        HAVING sum(change) <> 0
    ), freed AS (
        UPDATE institution_load l SET open_referrals = l.open_referrals + d.change
        FROM delta d
        WHERE d.change < 0
          AND l.institution_id = d.institution_id AND l.support_type = d.support_type
    )
    INSERT INTO institution_load AS l (institution_id, support_type, open_referrals)
    SELECT institution_id, support_type, change FROM delta WHERE change > 0
    ORDER BY institution_id, support_type
    ON CONFLICT (institution_id, support_type)
        DO UPDATE SET open_referrals = l.open_referrals + excluded.open_referrals;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS referrals_open_load_inserted ON referrals;
CREATE TRIGGER referrals_open_load_inserted AFTER INSERT ON referrals
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_open_load_inserted();
DROP TRIGGER IF EXISTS referrals_open_load_deleted ON referrals;
CREATE TRIGGER referrals_open_load_deleted AFTER DELETE ON referrals
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_open_load_deleted();
DROP TRIGGER IF EXISTS referrals_open_load_updated ON referrals;
CREATE TRIGGER referrals_open_load_updated AFTER UPDATE ON referrals
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_open_load_updated();
