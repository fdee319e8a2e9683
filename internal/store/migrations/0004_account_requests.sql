-- A signed-up account's auth token (Twilio's Account SID + Auth Token
-- pair); only its hash is kept.
ALTER TABLE accounts ADD COLUMN auth_token_hash TEXT;

-- Requests that bring an account from outside into an organization: an
-- import (the account becomes managed) or a share (it stays independent).
-- The owner answers through an emailed confirmation link.

CREATE TABLE account_requests (
    sid              TEXT PRIMARY KEY,
    organization_sid TEXT NOT NULL REFERENCES organizations (sid),
    account_sid      TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    requester_sid    TEXT NOT NULL,
    owner_sid        TEXT NOT NULL,
    owner_email      TEXT NOT NULL,
    account_name     TEXT NOT NULL,
    grants           TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL,
    expires_at       {{TIMESTAMP}} NOT NULL,
    sent_count       INTEGER NOT NULL DEFAULT 0,
    reminded_at      {{TIMESTAMP}},
    date_created     {{TIMESTAMP}} NOT NULL,
    date_ended       {{TIMESTAMP}}
);
CREATE INDEX account_requests_org ON account_requests (organization_sid, sid);
-- An account is pending for at most one organization at a time.
CREATE UNIQUE INDEX account_requests_one_pending ON account_requests (account_sid) WHERE status = 'pending';
