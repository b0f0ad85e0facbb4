-- The responsible caseworker (pracownik prowadzący) of a case: a staff member's subject (the
-- identity provider's id, staff data kept in intake only, never in an event). The opener by
-- default; reassigned by the gmina's caseworker or coordinator; on a transfer, whoever
-- accepted it in the receiving gmina.
ALTER TABLE cases
    ADD COLUMN assigned_to text,
    ADD COLUMN assigned_on date;
UPDATE cases SET assigned_to = opened_by, assigned_on = opened_on WHERE assigned_to IS NULL;
ALTER TABLE cases
    ALTER COLUMN assigned_to SET NOT NULL,
    ALTER COLUMN assigned_on SET NOT NULL;
-- The worklist's `mine`: a caseworker's open cases in a gmina.
CREATE INDEX cases_assigned_open ON cases (gmina, assigned_to) WHERE status <> 'closed';

-- A closing withdraws the transfer the case waited for (a closed case is no one's to take
-- over); requests left waiting on cases closed before this rule are withdrawn likewise.
UPDATE case_transfers t SET state = 'withdrawn', decided_by = 'case_closed', decided_at = now()
FROM cases c
WHERE c.case_id = t.case_id AND t.state = 'requested' AND c.status = 'closed';
