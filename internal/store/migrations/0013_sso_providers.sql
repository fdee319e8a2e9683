-- An organization's OpenID Connect identity provider for single sign-on:
-- one per organization. The client secret is kept to authenticate to the
-- provider's token endpoint; the API never shows it. required refuses
-- password sign-in to the organization's managed users.
CREATE TABLE sso_providers (
    organization_sid TEXT PRIMARY KEY REFERENCES organizations (sid),
    issuer           TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    client_secret    TEXT NOT NULL,
    required         BOOLEAN NOT NULL DEFAULT FALSE,
    date_created     {{TIMESTAMP}} NOT NULL,
    date_updated     {{TIMESTAMP}} NOT NULL
);
