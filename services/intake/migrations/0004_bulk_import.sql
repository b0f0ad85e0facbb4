-- Bulk import of a gmina's existing case files. Each imported case keeps the reference it had
-- in the previous software (unique per gmina) and a digest of its line, so that a re-run of the
-- same file imports nothing twice and a changed line under a known reference is refused.
CREATE TABLE case_external_refs (
    gmina        char(7) NOT NULL,
    external_id  text NOT NULL,
    case_id      uuid NOT NULL UNIQUE REFERENCES cases,
    line_digest  text NOT NULL,
    import_id    uuid NOT NULL,
    PRIMARY KEY (gmina, external_id)
);

-- One row per import run: who, into which gmina, and what came of it.
CREATE TABLE case_imports (
    import_id         uuid PRIMARY KEY,
    gmina             char(7) NOT NULL,
    subject           text NOT NULL,
    role              text NOT NULL,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    lines             int NOT NULL DEFAULT 0,
    imported          int NOT NULL DEFAULT 0,
    already_imported  int NOT NULL DEFAULT 0,
    rejected          int NOT NULL DEFAULT 0
);
CREATE INDEX case_imports_gmina ON case_imports (gmina, started_at);
