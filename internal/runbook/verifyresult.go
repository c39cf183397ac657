package runbook

// VerifyResult is the outcome of one Verify step's check: OK when every
// sampled path reached the expected side. The engine records it with the
// step's events; internal/verify produces it.
type VerifyResult struct {
	OK     bool               `json:"ok"`
	Detail string             `json:"detail"`
	Shares map[string]float64 `json:"shares,omitempty"`
}
