package etcdstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/etcdstore/etcdtest"
	"github.com/cutover/cutover/internal/store/storetest"
)

var ctx = context.Background()

var prefixes atomic.Int64

func freshPrefix() string { return fmt.Sprintf("/cutover-test/%d/", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	c := etcdtest.Start(t, 3)
	storetest.Run(t, func(t *testing.T, clk clock.Clock) storetest.Opener {
		prefix := freshPrefix()
		return func() store.Store {
			s, err := Open(ctx, Options{Endpoints: c.Endpoints(), Prefix: prefix, Clock: clk})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
	})
}
