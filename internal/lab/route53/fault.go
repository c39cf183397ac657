package route53

import "github.com/cutover/cutover/internal/lab/awsapi"

// Fault makes upcoming API calls fail, so the product's retry and pause
// paths can be tested against the wire. Faults apply to HTTP calls only,
// never to the Go API, and are checked before rate limiting.
type Fault struct {
	// Operation is the API operation name, e.g. "ChangeResourceRecordSets";
	// empty matches every operation.
	Operation string
	// ZoneID restricts the fault to calls on one hosted zone (bare or
	// "/hostedzone/…"); empty matches any call.
	ZoneID string
	// Count is how many matching calls fail; zero means one.
	Count int
	// Err is the answer; nil means awsapi.ErrThrottling.
	Err *awsapi.Error
}

// InjectFault arms f. Faults are consumed in the order they were injected.
func (s *Service) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.Err == nil {
		f.Err = awsapi.ErrThrottling
	}
	f.ZoneID = canonicalID(f.ZoneID)
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults disarms every pending fault.
func (s *Service) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault consumes one matching fault; the caller holds s.mu.
func (s *Service) takeFault(op, zoneID string) *awsapi.Error {
	for i, f := range s.faults {
		if (f.Operation != "" && f.Operation != op) || (f.ZoneID != "" && f.ZoneID != zoneID) {
			continue
		}
		f.Count--
		if f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f.Err
	}
	return nil
}
