// Package fanout runs the pieces of an indexed job on a few goroutines.
package fanout

import "sync"

// Each calls f(i) for every i in [0, n), on at most workers goroutines at
// once (one when workers < 1), and returns once every call has returned.
// f writes its result into its own slot of a slice the caller owns, so
// results keep the order of i.
func Each(n, workers int, f func(i int)) {
	workers = max(1, min(workers, n))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
