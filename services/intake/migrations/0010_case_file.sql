-- The case file: finding a family, keeping the household current, interview entries and case
-- notes, transfers of a case to another gmina's OPS.

-- Surnames and first names folded for a search that ignores case and diacritics ("Zolkiewska"
-- finds "Żółkiewska"): diacritics to their base letters, then ASCII lower case. Computed by the
-- database itself so it can never disagree with the name; services/intake/finding.py folds a
-- search term the same way (a unit test holds the two tables equal).
ALTER TABLE members
    ADD COLUMN last_name_key text COLLATE "C" GENERATED ALWAYS AS (
        translate(translate(last_name, 'ąáàâäãåāĄÁÀÂÄÃÅĀćčçĆČÇďđĎĐęéèêëěēĘÉÈÊËĚĒíìîïīÍÌÎÏĪłľĺŁĽĹńňñŃŇÑóòôöõőøōÓÒÔÖÕŐØŌřŕŘŔśšşŚŠŞťţŤŢúùûüůűūÚÙÛÜŮŰŪýÿÝŸźżžŹŻŽ',
        'aaaaaaaaaaaaaaaaccccccddddeeeeeeeeeeeeeeiiiiiiiiiillllllnnnnnnoooooooooooooooorrrrssssssttttuuuuuuuuuuuuuuyyyyzzzzzz'),
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) STORED,
    ADD COLUMN first_name_key text COLLATE "C" GENERATED ALWAYS AS (
        translate(translate(first_name, 'ąáàâäãåāĄÁÀÂÄÃÅĀćčçĆČÇďđĎĐęéèêëěēĘÉÈÊËĚĒíìîïīÍÌÎÏĪłľĺŁĽĹńňñŃŇÑóòôöõőøōÓÒÔÖÕŐØŌřŕŘŔśšşŚŠŞťţŤŢúùûüůűūÚÙÛÜŮŰŪýÿÝŸźżžŹŻŽ',
        'aaaaaaaaaaaaaaaaccccccddddeeeeeeeeeeeeeeiiiiiiiiiillllllnnnnnnoooooooooooooooorrrrssssssttttuuuuuuuuuuuuuuyyyyzzzzzz'),
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) STORED,
    ADD COLUMN joined_on date,
    ADD COLUMN left_on date;
CREATE INDEX members_last_name_key ON members (last_name_key);
CREATE INDEX members_name_birth ON members (last_name_key, first_name_key, birth_date);

-- A search that found no case is audited too (nobody's data shown, but someone searched).
ALTER TABLE audit_log ALTER COLUMN case_id DROP NOT NULL;

-- The environmental interview (wywiad środowiskowy) as dated entries, each with its author;
-- an entry is never changed, a later one adds to it.
CREATE TABLE interview_entries (
    entry_id      uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases,
    kind          text NOT NULL CHECK (kind IN ('home_interview', 'update')),
    conducted_on  date NOT NULL,
    summary       text NOT NULL,
    author        text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interview_entries_case ON interview_entries (case_id, conducted_on);

-- Dated case notes of the caseworker, kept in intake only; a note may ask for a follow-up.
CREATE TABLE case_notes (
    note_id       uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases,
    noted_on      date NOT NULL,
    text          text NOT NULL,
    follow_up_on  date,
    author        text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_notes_case ON case_notes (case_id, noted_on);
CREATE INDEX case_notes_follow_up ON case_notes (follow_up_on) WHERE follow_up_on IS NOT NULL;

-- A case handed to the OPS of another gmina: requested by the sending OPS, accepted (or
-- declined) by the receiving one. At most one request waits per case.
CREATE TABLE case_transfers (
    transfer_id   uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases,
    from_gmina    char(7) NOT NULL,
    to_gmina      char(7) NOT NULL,
    state         text NOT NULL CHECK (state IN ('requested', 'accepted', 'declined', 'withdrawn')),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    decided_by    text,
    decided_at    timestamptz
);
CREATE UNIQUE INDEX case_transfers_one_waiting ON case_transfers (case_id)
    WHERE state = 'requested';
CREATE INDEX case_transfers_to ON case_transfers (to_gmina, state);
CREATE INDEX case_transfers_from ON case_transfers (from_gmina, state);
