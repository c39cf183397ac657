package main

import (
	"testing"

	"github.com/cutover/cutover/internal/bridge"
)

// The configuration `cutover bridge --help` shows is a valid one.
func TestBridgeHelpExampleParses(t *testing.T) {
	if _, err := bridge.Parse([]byte(bridgeExample)); err != nil {
		t.Fatal(err)
	}
}
