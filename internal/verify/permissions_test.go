package verify

import (
	"testing"

	"github.com/cutover/cutover/internal/iam"
)

// TestPermissionsCoverEveryCall fails when cloudFrontAPI gains a method
// without a Permissions entry (or loses one that still has an entry).
func TestPermissionsCoverEveryCall(t *testing.T) {
	if missing, extra := iam.Unlisted(Permissions, (*cloudFrontAPI)(nil)); len(missing)+len(extra) > 0 {
		t.Fatalf("cloudFrontAPI methods without a permission: %v; permissions without a method: %v", missing, extra)
	}
}
