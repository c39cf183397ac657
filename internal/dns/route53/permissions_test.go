package route53

import (
	"testing"

	"github.com/cutover/cutover/internal/iam"
)

// TestPermissionsCoverEveryCall fails when route53API gains a method
// without a Permissions entry (or loses one that still has an entry).
func TestPermissionsCoverEveryCall(t *testing.T) {
	if missing, extra := iam.Unlisted(Permissions, (*route53API)(nil)); len(missing)+len(extra) > 0 {
		t.Fatalf("route53API methods without a permission: %v; permissions without a method: %v", missing, extra)
	}
}

func TestNormalizedName(t *testing.T) {
	for in, want := range map[string]string{
		"API.Example.com.":   "api.example.com",
		"_cdn.example.com":   "_cdn.example.com",
		"*.example.com.":     "\\052.example.com",
		"a-b_c.example.com.": "a-b_c.example.com",
	} {
		if got := NormalizedName(in); got != want {
			t.Errorf("NormalizedName(%q) = %q, want %q", in, got, want)
		}
	}
}
