package etcdstore

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/etcdstore/etcdtest"
)

// One call is a snapshot read (a linearizable range through the leader)
// and, for writes, one conditioned Txn committed by raft on a majority of
// the 3 members; BenchmarkRawPut is the baseline of one plain write.

func benchStore(b *testing.B) (*Store, store.Run, store.Lease, *etcdtest.Cluster) {
	c := etcdtest.Start(b, 3)
	s, err := Open(ctx, Options{Endpoints: c.Endpoints(), Prefix: freshPrefix()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	r, err := s.CreateRun(ctx, store.Run{Name: "bench", Hostname: "h.example.com"})
	if err != nil {
		b.Fatal(err)
	}
	l, err := s.Acquire(ctx, "h.example.com", "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return s, r, l, c
}

func BenchmarkCommit(b *testing.B) {
	s, r, l, _ := benchStore(b)
	for b.Loop() {
		var err error
		r.Step++
		if r, _, err = s.Commit(ctx, l, r, store.Event{Type: store.EventWaitStarted, Step: r.Step}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRun(b *testing.B) {
	s, _, _, _ := benchStore(b)
	for b.Loop() {
		if _, err := s.GetRun(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAcquireRenew(b *testing.B) {
	s, _, _, _ := benchStore(b)
	for b.Loop() {
		if _, err := s.Acquire(ctx, "h.example.com", "bench", time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawPut(b *testing.B) {
	_, _, _, c := benchStore(b)
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	v := string(make([]byte, 300))
	for b.Loop() {
		if _, err := cli.Put(ctx, "/bench/raw", v); err != nil {
			b.Fatal(err)
		}
	}
}
