// Package cwtest serves the lab CloudWatch over HTTP for the tests of code
// that reads CloudWatch through the real SDK, such as the metric gates:
// Start gives a fresh emulator on a fake clock, its URL and a signed client.
package cwtest
