package edge

import (
	"testing"

	"github.com/cutover/cutover/internal/iam"
)

// TestPermissionsCoverEveryCall fails when cloudfrontAPI or elbAPI gains a
// method without a Permissions entry (or loses one that has an entry).
func TestPermissionsCoverEveryCall(t *testing.T) {
	if missing, extra := iam.Unlisted(Permissions, (*cloudfrontAPI)(nil), (*elbAPI)(nil)); len(missing)+len(extra) > 0 {
		t.Fatalf("methods without a permission: %v; permissions without a method: %v", missing, extra)
	}
}
