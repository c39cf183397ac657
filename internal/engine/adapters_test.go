package engine_test

import (
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/verify"
)

// The adapters satisfy the engine's interfaces without importing it.
var (
	_ engine.Verifier   = (*verify.Verifier)(nil)
	_ engine.CDN        = (*cloudfront.Client)(nil)
	_ engine.StagingCDN = (*cloudfront.Client)(nil)
	_ engine.CDN        = (*cloudfront.Accounts)(nil)
	_ engine.StagingCDN = (*cloudfront.Accounts)(nil)
)
