package drain

import (
	"testing"

	"github.com/cutover/cutover/internal/iam"
)

// TestPermissionsCoverEveryCall fails when metricsAPI gains a method
// without a Permissions entry (or loses one that still has an entry).
func TestPermissionsCoverEveryCall(t *testing.T) {
	if missing, extra := iam.Unlisted(Permissions, (*metricsAPI)(nil)); len(missing)+len(extra) > 0 {
		t.Fatalf("metricsAPI methods without a permission: %v; permissions without a method: %v", missing, extra)
	}
}
