-- Consent to share within the PZK can be withdrawn (RODO art. 7(3)): the case keeps the day of
-- the latest withdrawal; consent given again sets consent_to_share back and keeps this day, so
-- that the file shows both. Access grants stay as referrals announce them; they give access only
-- while consent is in effect (domain.may_read_persons).
ALTER TABLE cases ADD COLUMN consent_withdrawn_on date;
