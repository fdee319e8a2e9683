-- Personal API keys and what every credential's owner needs to manage
-- them: whether a credential is a person's key, and when it was last used
-- (written at most once a minute per credential).
ALTER TABLE credentials ADD COLUMN personal {{BOOL}} NOT NULL DEFAULT FALSE;
ALTER TABLE credentials ADD COLUMN date_last_used {{TIMESTAMP}};
CREATE INDEX credentials_org ON credentials (organization_sid, sid);
CREATE INDEX credentials_user ON credentials (user_sid, sid);

-- Bearer tokens by credential: a revocation ends them, and issuing one
-- past the per-credential cap deletes the oldest.
CREATE INDEX access_tokens_credential ON access_tokens (credential_sid, expires_at);
