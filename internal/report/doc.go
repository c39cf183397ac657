// Package report renders the audit report of a run from what the store
// holds — the run, its runbook and its event log — and the split chart's
// points: the timeline, every DNS and CDN change with its provider change
// id and the records or aliases before and after, gate values, verification
// matrices and operator actions with who and when.
//
// Build is pure: it reads no clock and calls no provider, so the same run
// always renders the same report. HTML and Markdown render one Report; the
// HTML file is self-contained (inline CSS and SVG, no external asset).
package report
