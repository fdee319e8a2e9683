-- Invitations to an account, the single-use links emailed for them (and,
-- later, for imports and shares), and a record of every email sent.

CREATE TABLE invitations (
    sid              TEXT PRIMARY KEY,
    organization_sid TEXT NOT NULL REFERENCES organizations (sid),
    account_sid      TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    roles            TEXT NOT NULL,
    inviter_sid      TEXT NOT NULL,
    status           TEXT NOT NULL,
    sent_count       INTEGER NOT NULL DEFAULT 0,
    last_sent_at     {{TIMESTAMP}},
    expires_at       {{TIMESTAMP}},
    user_sid         TEXT,
    date_created     {{TIMESTAMP}} NOT NULL,
    date_answered    {{TIMESTAMP}}
);
CREATE INDEX invitations_account ON invitations (account_sid, sid);
-- One pending invitation per person and account.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (account_sid, email) WHERE status = 'pending';

CREATE TABLE confirmation_links (
    token_hash   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    subject_sid  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    expires_at   {{TIMESTAMP}} NOT NULL,
    used_at      {{TIMESTAMP}},
    revoked_at   {{TIMESTAMP}},
    date_created {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX confirmation_links_version ON confirmation_links (subject_sid, version);

CREATE TABLE sent_emails (
    sid              TEXT PRIMARY KEY,
    idem_key         TEXT NOT NULL,
    organization_sid TEXT NOT NULL DEFAULT '',
    to_address       TEXT NOT NULL,
    template         TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    transport        TEXT NOT NULL,
    workflow_id      TEXT NOT NULL DEFAULT '',
    related_sid      TEXT NOT NULL DEFAULT '',
    date_created     {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX sent_emails_key ON sent_emails (idem_key);
CREATE INDEX sent_emails_related ON sent_emails (related_sid, sid);
