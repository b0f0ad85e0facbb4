-- A diagnosis's assessments are read with it and counted in every list of diagnoses.
CREATE INDEX IF NOT EXISTS assessments_diagnosis ON assessments (diagnosis_id);
