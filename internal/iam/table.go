package iam

import (
	"reflect"
	"sort"
)

// ResourceType is the kind of resource an action is authorized on, as the
// Service Authorization Reference names it; Any is an action without
// resource-level permissions, which a policy can grant only on "*".
type ResourceType string

// The resource types the adapters' calls are authorized on.
const (
	Any                        ResourceType = ""
	HostedZone                 ResourceType = "hostedzone"
	Change                     ResourceType = "change"
	HealthCheck                ResourceType = "healthcheck"
	Distribution               ResourceType = "distribution"
	ContinuousDeploymentPolicy ResourceType = "continuous-deployment-policy"
	Role                       ResourceType = "role"
	Certificate                ResourceType = "certificate"
)

// Permission is what one API operation needs: the IAM actions (most
// operations need one, of the same name; a few need more) and the
// resource type they are authorized on.
type Permission struct {
	// Operation is the API operation: the SDK client's method name.
	Operation string
	// Actions are service:Action names.
	Actions []string
	// Resource is the resource type every action of the operation is
	// granted on.
	Resource ResourceType
	// Unverified, when set, says which part of the entry has not been
	// checked against the Service Authorization Reference ([U]).
	Unverified string
}

// Table is an adapter's permissions, one entry per API operation it calls.
type Table []Permission

// For returns the entry of an operation.
func (t Table) For(operation string) (Permission, bool) {
	for _, p := range t {
		if p.Operation == operation {
			return p, true
		}
	}
	return Permission{}, false
}

// Unlisted returns, sorted, the methods of the interface types (each
// given as a nil pointer, reflect.TypeOf((*api)(nil))) that have no entry
// in t, and the entries of t that no interface has: both mean the table
// and the calls have drifted apart.
func Unlisted(t Table, interfaces ...any) (missing, extra []string) {
	methods := map[string]bool{}
	for _, i := range interfaces {
		typ := reflect.TypeOf(i).Elem()
		for m := range typ.Methods() {
			methods[m.Name] = true
			if _, ok := t.For(m.Name); !ok {
				missing = append(missing, m.Name)
			}
		}
	}
	for _, p := range t {
		if !methods[p.Operation] {
			extra = append(extra, p.Operation)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// Merge returns the entries of the tables, the first one of an operation
// winning; several adapters may call the same operation.
func Merge(tables ...Table) Table {
	var out Table
	seen := map[string]bool{}
	for _, t := range tables {
		for _, p := range t {
			if !seen[p.Operation] {
				seen[p.Operation] = true
				out = append(out, p)
			}
		}
	}
	return out
}
