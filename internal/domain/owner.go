package domain

import "context"

// OwnerDirectory is what resolving a new account's owner reads.
type OwnerDirectory interface {
	FindOrganization(ctx context.Context, sid string) (Organization, error)
	FindUser(ctx context.Context, orgSid, sid string) (User, error)
	FindUserByEmail(ctx context.Context, orgSid, email string) (User, error)
}

// ResolveAccountOwner returns the SID of a new account's owner, named by
// ref (a User SID, a user's email, or empty for the organization's
// owner), after checking it is a managed user of the organization: 25103
// otherwise, also for a user who is not in the organization at all. It is
// the one place where the managed-owner rule is applied to a new account.
func ResolveAccountOwner(ctx context.Context, d OwnerDirectory, orgSid, ref string) (string, error) {
	sid, email, err := ParseUserRef("owner", ref)
	if err != nil {
		return "", err
	}
	if sid == "" && email == "" {
		org, err := d.FindOrganization(ctx, orgSid)
		if err != nil {
			return "", err
		}
		sid = org.OwnerSid
	}
	var u User
	if sid != "" {
		u, err = d.FindUser(ctx, orgSid, sid)
	} else {
		u, err = d.FindUserByEmail(ctx, orgSid, email)
	}
	if ErrorCode(err) == CodeUserNotFound {
		if ref == "" {
			ref = sid
		}
		return "", Errorf(EInvalid, CodeOwnerNotManaged, "the account owner %q is not a managed user of this organization", ref)
	}
	if err != nil {
		return "", err
	}
	return u.Sid, CheckManagedOwner(orgSid, u)
}
