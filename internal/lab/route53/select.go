package route53

import "math/rand"

// maxMultiValueAnswers is how many records a multivalue answer returns.
const maxMultiValueAnswers = 8

// Select applies Route 53's routing rules (reference A5) to the record sets
// of one name and type, as the lab's DNS server must for each query, and
// returns the sets to answer with. It is pure: health comes from healthy
// (nil means every check is healthy; a set without HealthCheckID is always
// healthy) and randomness from rnd (nil uses math/rand's global source).
//
//   - simple: every set (normally one).
//   - weighted: one set, chosen with P(i) = wᵢ/Σw among the healthy sets
//     with a non-zero weight; if none has one, uniformly among the healthy
//     zero-weight sets; if no set is healthy, all count as healthy.
//   - failover: the primary while healthy, else a healthy secondary, else
//     the primary again (both unhealthy).
//   - multivalue answer: up to eight healthy sets, or up to eight of all
//     when none is healthy.
//   - latency and geolocation: the lab knows no client location, so the
//     first healthy set (the first set when none is).
func Select(sets []RecordSet, healthy func(hcID string) bool, rnd *rand.Rand) []RecordSet {
	if len(sets) == 0 {
		return nil
	}
	ok := func(rs RecordSet) bool {
		return rs.HealthCheckID == "" || healthy == nil || healthy(rs.HealthCheckID)
	}
	var up []RecordSet
	for _, rs := range sets {
		if ok(rs) {
			up = append(up, rs)
		}
	}
	one := func(rs RecordSet) []RecordSet { return []RecordSet{rs.clone()} }

	switch sets[0].policyKind() {
	case "":
		return cloneSets(sets)
	case "weighted":
		cand := up
		if len(cand) == 0 {
			cand = sets
		}
		var total int64
		var nonZero []RecordSet
		for _, rs := range cand {
			if rs.Weight != nil && *rs.Weight > 0 {
				nonZero = append(nonZero, rs)
				total += *rs.Weight
			}
		}
		intn, int63n := rand.Intn, rand.Int63n
		if rnd != nil {
			intn, int63n = rnd.Intn, rnd.Int63n
		}
		if total == 0 {
			return one(cand[intn(len(cand))])
		}
		r := int63n(total)
		for _, rs := range nonZero {
			if r -= *rs.Weight; r < 0 {
				return one(rs)
			}
		}
		return one(nonZero[len(nonZero)-1])
	case "failover":
		var primary, secondary *RecordSet
		for i := range sets {
			switch sets[i].Failover {
			case FailoverPrimary:
				primary = &sets[i]
			case FailoverSecondary:
				secondary = &sets[i]
			}
		}
		switch {
		case primary != nil && ok(*primary):
			return one(*primary)
		case secondary != nil && ok(*secondary):
			return one(*secondary)
		case primary != nil:
			return one(*primary)
		case secondary != nil:
			return one(*secondary)
		default:
			return one(sets[0])
		}
	case "multivalue answer":
		cand := up
		if len(cand) == 0 {
			cand = sets
		}
		if len(cand) > maxMultiValueAnswers {
			cand = cand[:maxMultiValueAnswers]
		}
		return cloneSets(cand)
	default:
		if len(up) > 0 {
			return one(up[0])
		}
		return one(sets[0])
	}
}
