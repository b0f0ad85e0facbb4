-- Each institution's open load per support type (referrals assigned or accepted), kept as a
-- counter so that routing reads one row per candidate instead of counting its open referrals
-- (which grew with the years of cases a gmina keeps). The trigger changes it in the same
-- transaction as the referral's row, on every path that changes a referral's state, its
-- institution or its support type, whichever code does it (routing, accept, decline, complete,
-- cancel, consent withdrawn, case closed, a transfer, a restore by COPY).
CREATE TABLE institution_load (
    institution_id  uuid NOT NULL REFERENCES institutions,
    support_type    text NOT NULL,
    open_referrals  int NOT NULL DEFAULT 0 CHECK (open_referrals >= 0),
    PRIMARY KEY (institution_id, support_type)
);

CREATE FUNCTION referrals_open_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_open boolean := TG_OP <> 'INSERT' AND OLD.institution_id IS NOT NULL
                        AND OLD.state IN ('assigned', 'accepted');
    is_open  boolean := TG_OP <> 'DELETE' AND NEW.institution_id IS NOT NULL
                        AND NEW.state IN ('assigned', 'accepted');
BEGIN
    IF was_open AND is_open AND OLD.institution_id = NEW.institution_id
       AND OLD.support_type = NEW.support_type THEN
        RETURN NULL;  -- accepted, or a deadline noted: the load is unchanged
    END IF;
    IF was_open THEN
        UPDATE institution_load SET open_referrals = open_referrals - 1
        WHERE institution_id = OLD.institution_id AND support_type = OLD.support_type;
    END IF;
    IF is_open THEN
        INSERT INTO institution_load AS l (institution_id, support_type, open_referrals)
        VALUES (NEW.institution_id, NEW.support_type, 1)
        ON CONFLICT (institution_id, support_type)
            DO UPDATE SET open_referrals = l.open_referrals + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER referrals_open_load AFTER INSERT OR DELETE OR UPDATE OF state, institution_id,
    support_type ON referrals FOR EACH ROW EXECUTE FUNCTION referrals_open_load();

CREATE FUNCTION referrals_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM institution_load;
    RETURN NULL;
END $$;

CREATE TRIGGER referrals_truncated AFTER TRUNCATE ON referrals
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_truncated();

-- An upgrade starts from the referrals already there.
INSERT INTO institution_load (institution_id, support_type, open_referrals)
SELECT institution_id, support_type, count(*) FROM referrals
WHERE institution_id IS NOT NULL AND state IN ('assigned', 'accepted')
GROUP BY institution_id, support_type;
