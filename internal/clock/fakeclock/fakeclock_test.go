package fakeclock

import (
	"context"
	"testing"
	"time"
)

func TestSleepAdvancesAndCallsHook(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := New(t0)
	var seen []time.Time
	c.OnSleep = func(now time.Time) { seen = append(seen, now) }
	if err := c.Sleep(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Sleep(context.Background(), -time.Second); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now(), t0.Add(3*time.Second); !got.Equal(want) {
		t.Fatalf("now %v, want %v", got, want)
	}
	if len(seen) != 2 || !seen[0].Equal(t0.Add(3*time.Second)) {
		t.Fatalf("hook saw %v", seen)
	}
	if s := c.Sleeps(); len(s) != 2 || s[0] != 3*time.Second || s[1] != -time.Second {
		t.Fatalf("sleeps %v", s)
	}
}

func TestSleepOnDoneContextDoesNotMove(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := New(t0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("err %v", err)
	}
	if !c.Now().Equal(t0) || len(c.Sleeps()) != 0 {
		t.Fatalf("clock moved: %v %v", c.Now(), c.Sleeps())
	}
}

func TestAdvanceAndSet(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := New(t0)
	c.Advance(time.Minute)
	if !c.Now().Equal(t0.Add(time.Minute)) {
		t.Fatal(c.Now())
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatal(c.Now())
	}
}
