-- Retention: personal data of cases closed longer than the retention period is anonymised.
-- The birth year stays (ages as bands remain computable); the exact date, names, PESEL, contact
-- and the interview summary go. The case, its codes and its history stay valid.

ALTER TABLE members
    ALTER COLUMN birth_date DROP NOT NULL,
    ADD COLUMN birth_year int,
    ADD COLUMN anonymised_at timestamptz;
UPDATE members SET birth_year = extract(year FROM birth_date)::int;
ALTER TABLE members ALTER COLUMN birth_year SET NOT NULL;

ALTER TABLE cases ADD COLUMN anonymised_at timestamptz;
CREATE INDEX cases_awaiting_anonymisation ON cases (closed_on)
    WHERE status = 'closed' AND anonymised_at IS NULL;
