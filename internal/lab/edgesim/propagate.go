package edgesim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"time"

	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/elbv2"
)

// quietLog swallows the HTTP servers' own logging (TLS handshake failures
// from clients that distrust a certificate are expected in the lab).
var quietLog = log.New(io.Discard, "", 0)

// seen is one configuration version of a distribution and when the edges
// first saw it. A nil view is the distribution's deletion.
type seen struct {
	version int64
	at      time.Time // zero: present before Start, applied everywhere
	view    *cloudfront.View
}

// history is the versions of one distribution the edges may still be
// applying, oldest first.
type history struct {
	id       string
	versions []seen
}

// mix64 is SplitMix64's finaliser: it spreads a hash over all 64 bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func edgeName(seed uint64, edge int) string {
	return fmt.Sprintf("%016x", mix64(seed^uint64(edge)*0x9e3779b97f4a7c15))
}

// delay is edge's propagation delay for one version of a distribution. It
// is a pure function of the seed, so it needs no storage and the same lab
// seed replays the same rollout order.
func (s *Sim) delay(edge int, id string, version int64) time.Duration {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.opts.Seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(version))
	h.Write(b[:])
	h.Write([]byte(id))
	h.Write([]byte{byte(edge), byte(edge >> 8)})
	frac := float64(mix64(h.Sum64())>>11) / (1 << 53)
	span := s.opts.PropagationMax - s.opts.PropagationMin
	return s.opts.PropagationMin + time.Duration(frac*float64(span))
}

// versionDelay is the delay of one seen version at an edge: versions that
// one API operation produced on several distributions (an AssociateAlias)
// share it, so the edge applies them together.
func (s *Sim) versionDelay(edge int, id string, v *seen) time.Duration {
	if v.view != nil && v.view.Change != 0 {
		return s.delay(edge, "change", int64(v.view.Change))
	}
	return s.delay(edge, id, v.version)
}

// Delay reports the delay edge (1-based) takes to apply the version of a
// distribution that v shows.
func (s *Sim) Delay(edge int, v cloudfront.View) time.Duration {
	return s.versionDelay(edge, v.ID, &seen{version: v.Version, view: &v})
}

// appliedLocked is the version of h an edge uses now, or nil when the
// distribution does not exist there (not yet arrived, or deleted).
func (s *Sim) appliedLocked(edge int, h *history, now time.Time) *seen {
	for i := len(h.versions) - 1; i >= 0; i-- {
		v := &h.versions[i]
		if v.at.IsZero() || !now.Before(v.at.Add(s.versionDelay(edge, h.id, v))) {
			if v.view == nil {
				return nil
			}
			return v
		}
	}
	return nil
}

// Sync reads the control planes now and records every new configuration
// version. The poll loop calls it; tests call it after a change so that
// the change is seen at the fake clock's current time.
func (s *Sim) Sync() {
	views := s.opts.Distributions.List()
	var lbs []elbv2.LB
	if s.opts.LoadBalancers != nil {
		lbs = s.opts.LoadBalancers.LoadBalancers()
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	initial := !s.synced
	s.synced = true
	present := map[string]bool{}
	for i := range views {
		v := views[i]
		present[v.ID] = true
		h := s.dists[v.ID]
		if h == nil {
			h = &history{id: v.ID}
			s.dists[v.ID] = h
			s.order = append(s.order, v.ID)
		}
		last := h.lastVersion()
		if last == nil || last.view == nil || v.Version > last.version {
			at := now
			if initial {
				at = time.Time{}
			}
			h.versions = append(h.versions, seen{version: v.Version, at: at, view: &v})
		}
	}
	for _, id := range s.order {
		h := s.dists[id]
		if last := h.lastVersion(); !present[id] && last != nil && last.view != nil {
			h.versions = append(h.versions, seen{version: last.version + 1, at: now})
		}
	}
	s.pruneLocked(now)
	s.lbs = lbs
	if s.started && !s.closed && s.httpPort != 0 {
		for _, lb := range lbs {
			if _, ok := s.lbAddr[lb.ARN]; !ok {
				s.bindLBLocked(lb)
			}
		}
	}
}

func (h *history) lastVersion() *seen {
	if len(h.versions) == 0 {
		return nil
	}
	return &h.versions[len(h.versions)-1]
}

// pruneLocked forgets versions that every edge has moved past, and
// distributions whose deletion every edge has applied.
func (s *Sim) pruneLocked(now time.Time) {
	keep := s.order[:0]
	for _, id := range s.order {
		h := s.dists[id]
		cut := 0
		for i, v := range h.versions {
			if v.at.IsZero() || !now.Before(v.at.Add(s.opts.PropagationMax)) {
				cut = i
			}
		}
		h.versions = h.versions[cut:]
		if len(h.versions) == 1 && h.versions[0].view == nil {
			delete(s.dists, id)
			continue
		}
		keep = append(keep, id)
	}
	s.order = keep
}

// Applied returns, for edge (1-based), the configuration version of each
// distribution that edge serves now.
func (s *Sim) Applied(edge int) map[string]int64 {
	now := s.opts.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for _, id := range s.order {
		if v := s.appliedLocked(edge, s.dists[id], now); v != nil {
			out[id] = v.version
		}
	}
	return out
}

// viewsLocked returns the distributions edge serves now, in creation
// order. Load balancer listeners (edge 0) see the newest versions.
func (s *Sim) viewsLocked(edge int, now time.Time) []*cloudfront.View {
	out := make([]*cloudfront.View, 0, len(s.order))
	for _, id := range s.order {
		if v := s.appliedLocked(edge, s.dists[id], now); v != nil {
			out = append(out, v.view)
		}
	}
	return out
}

// Reset forgets every configuration the edges have seen and takes the
// control planes' current state at once on every edge, as at start: the
// lab calls it after returning to its seed state, where versions may run
// backwards.
func (s *Sim) Reset() {
	s.mu.Lock()
	s.dists = map[string]*history{}
	s.order = nil
	s.synced = false
	s.mu.Unlock()
	s.Sync()
}
