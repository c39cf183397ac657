package boltstore

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cutover/cutover/internal/store"
)

// The cost of one call is dominated by opening the file (lock, mmap) and, for
// writes, the fsync; these benchmarks measure exactly that round trip.

func benchStore(b *testing.B) (*Store, store.Run, store.Lease) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := s.CreateRun(ctx, store.Run{Name: "bench", Hostname: "h.example.com"})
	if err != nil {
		b.Fatal(err)
	}
	l, err := s.Acquire(ctx, "h.example.com", "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return s, r, l
}

func BenchmarkCommit(b *testing.B) {
	s, r, l := benchStore(b)
	for b.Loop() {
		var err error
		r.Step++
		if r, _, err = s.Commit(ctx, l, r, store.Event{Type: store.EventWaitStarted, Step: r.Step}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRun(b *testing.B) {
	s, _, _ := benchStore(b)
	for b.Loop() {
		if _, err := s.GetRun(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltUpdateKeptOpen is the baseline: one fsynced bbolt write with
// the file kept open, which the store cannot do (it would lock out every
// other cutover process). The difference to BenchmarkCommit is the price of
// opening per call.
func BenchmarkBoltUpdateKeptOpen(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	v := make([]byte, 300)
	i := 0
	for b.Loop() {
		i++
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("runs"))
			if err != nil {
				return err
			}
			return bk.Put([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, v)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
