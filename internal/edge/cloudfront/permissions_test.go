package cloudfront

import (
	"testing"

	"github.com/cutover/cutover/internal/iam"
)

// TestPermissionsCoverEveryCall fails when api gains a method without a
// Permissions entry (or loses one that still has an entry).
func TestPermissionsCoverEveryCall(t *testing.T) {
	if missing, extra := iam.Unlisted(Permissions, (*api)(nil)); len(missing)+len(extra) > 0 {
		t.Fatalf("api methods without a permission: %v; permissions without a method: %v", missing, extra)
	}
}
