CREATE TABLE counters (
    case_id  uuid PRIMARY KEY,
    n        int NOT NULL
);
