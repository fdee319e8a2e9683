-- The start of a lifecycle's workflow, written in the same transaction as
-- the record it works on, so that a record is never left without its
-- workflow: the API starts the workflow right after the commit, and a
-- relay in the worker starts any whose start was not confirmed (the API
-- stopped, or the workflow service was down). The row goes when the
-- workflow has done its work (an account leaves provisioning).
CREATE TABLE pending_starts (
    subject_sid      TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    organization_sid TEXT NOT NULL,
    input            TEXT NOT NULL,
    date_created     {{TIMESTAMP}} NOT NULL,
    date_started     {{TIMESTAMP}}
);
CREATE INDEX pending_starts_waiting ON pending_starts (date_created) WHERE date_started IS NULL;
