// Package sts emulates the parts of AWS Security Token Service a cutover
// needs: GetCallerIdentity, so a client can learn which account its
// credentials act in, and AssumeRole, so a role chain can reach a resource in
// another account (a Route 53 zone in one account, a distribution in another).
//
// STS speaks the query protocol (Version 2011-06-15). Roles are declared
// through the Go API (AddRole) by the lab's seed; AssumeRole checks the
// role's trust (caller account or principal, ExternalId) and mints temporary
// credentials that it registers in the lab's keyring under the assumed-role
// identity in the role's account. Expiry is enforced by the keyring against
// the lab clock, so tests move a fake clock rather than wait.
package sts
