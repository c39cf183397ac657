package fanout

import (
	"sync"
	"testing"
)

// Every index is called once, and no more than workers calls run at once.
func TestEachCallsEveryIndexOnceWithinTheBound(t *testing.T) {
	const n, workers = 50, 3
	var mu sync.Mutex
	calls := make([]int, n)
	running, most := 0, 0
	gate := make(chan struct{})
	started := make(chan struct{}, n)
	done := make(chan struct{})
	go func() {
		Each(n, workers, func(i int) {
			mu.Lock()
			calls[i]++
			running++
			most = max(most, running)
			mu.Unlock()
			started <- struct{}{}
			<-gate
			mu.Lock()
			running--
			mu.Unlock()
		})
		close(done)
	}()
	for range workers {
		<-started // workers calls are in progress, held by the gate
	}
	close(gate)
	<-done
	for i, c := range calls {
		if c != 1 {
			t.Fatalf("index %d called %d times", i, c)
		}
	}
	if most != workers {
		t.Fatalf("%d calls ran at once, want %d", most, workers)
	}
}

func TestEachWithNothingToDo(t *testing.T) {
	Each(0, 4, func(int) { t.Fatal("called with n = 0") })
}
