package runbook

// VerifyResult is the outcome of one Verify step's check: OK when every
// sampled path reached the expected side. The engine records it with the
// step's events; internal/verify produces it.
type VerifyResult struct {
	OK     bool               `json:"ok"`
	Detail string             `json:"detail"`
	Shares map[string]float64 `json:"shares,omitempty"`
	// Cells is the verification matrix: each resolver with each edge
	// address it sent clients to, and the side that answered there.
	Cells []VerifyCell `json:"cells,omitempty"`
}

// VerifyCell is one path of a verification: a resolver and an edge
// address it answered with.
type VerifyCell struct {
	Resolver string `json:"resolver"`
	Edge     string `json:"edge"`
	// Share is the part of the resolver's answers that led to Edge.
	Share  float64 `json:"share"`
	Side   string  `json:"side"`
	Status int     `json:"status,omitempty"`
	Error  string  `json:"error,omitempty"`
}
