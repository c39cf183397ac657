package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
	"github.com/cutover/cutover/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk clock.Clock) storetest.Opener {
		s := memstore.New(memstore.Options{Clock: clk})
		return func() store.Store { return s.Handle() }
	})
}

// OwnerGone lets engine tests model a killed owner: its lease is taken over
// before expiry, with a new token, and a live owner's is not.
func TestOwnerGoneTakeover(t *testing.T) {
	ctx := context.Background()
	dead := map[string]bool{"killed": true}
	s := memstore.New(memstore.Options{
		Clock:     fakeclock.New(storetest.Epoch),
		OwnerGone: func(owner string) bool { return dead[owner] },
	})
	if _, err := s.Acquire(ctx, "h.example.com", "alive", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, "h.example.com", "other", time.Hour); err == nil {
		t.Fatal("took a live owner's lease before expiry")
	}
	if _, err := s.Acquire(ctx, "k.example.com", "killed", time.Hour); err != nil {
		t.Fatal(err)
	}
	l, err := s.Acquire(ctx, "k.example.com", "resumer", time.Hour)
	if err != nil || l.Token != 2 {
		t.Fatalf("taking over a gone owner's lease: %+v, %v; want token 2", l, err)
	}
}
