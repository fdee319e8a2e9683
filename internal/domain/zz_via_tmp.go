package domain

type Via string

const (
	ViaOrgCredential     Via = "org_credential"
	ViaAccountCredential Via = "account_credential"
	ViaPersonalKey       Via = "personal_key"
	ViaSession           Via = "session"
)

func (p Principal) IsPerson() bool { return p.Via == ViaSession || p.Via == ViaPersonalKey }
