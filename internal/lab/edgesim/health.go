package edgesim

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cutover/cutover/internal/lab/elbv2"
)

// probeTimeout is the health check timeout (ALB's default is 5 s; the lab
// keeps it short because its targets are local).
const probeTimeout = 2 * time.Second

// CheckHealth probes every registered target of every load balancer's
// target groups once (GET / over HTTP) and reports any change of health to
// the ELBv2 emulator when it accepts reports. Targets sharing an id in one
// group share one health in the emulator, so one failure marks them all
// unhealthy. The health loop calls it every HealthInterval; tests call it
// directly and then Sync.
func (s *Sim) CheckHealth(ctx context.Context) {
	if s.opts.LoadBalancers == nil {
		return
	}
	reporter, ok := s.opts.LoadBalancers.(HealthReporter)
	if !ok {
		return
	}
	client := &http.Client{
		Timeout:   probeTimeout,
		Transport: &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{Timeout: probeTimeout}).DialContext},
	}
	defer client.CloseIdleConnections()
	for _, lb := range s.opts.LoadBalancers.LoadBalancers() {
		for _, tg := range lb.TargetGroups {
			type verdict struct {
				state, reason string
				current       elbv2.Health
			}
			byID := map[string]*verdict{}
			var order []string
			for _, t := range tg.Targets {
				if t.State == elbv2.StateDraining || t.State == elbv2.StateUnused {
					continue
				}
				port := t.Port
				if port == 0 {
					port = tg.Port
				}
				state, reason := probe(ctx, client, net.JoinHostPort(t.ID, strconv.Itoa(port)))
				v := byID[t.ID]
				if v == nil {
					v = &verdict{state: state, reason: reason, current: t.Health}
					byID[t.ID] = v
					order = append(order, t.ID)
				} else if state != elbv2.StateHealthy {
					v.state, v.reason = state, reason
				}
			}
			for _, id := range order {
				v := byID[id]
				if v.current.State == v.state && v.current.Reason == v.reason {
					continue
				}
				_ = reporter.SetTargetHealth(tg.ARN, id, v.state, v.reason)
			}
		}
	}
}

// probe checks one target the way an ALB health check does: a 200 is
// healthy, another status is a code mismatch, no answer is a timeout or a
// failed check.
func probe(ctx context.Context, c *http.Client, hostport string) (state, reason string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+"/", nil)
	if err != nil {
		return elbv2.StateUnhealthy, "Elb.InternalError"
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := c.Do(req)
	if err != nil {
		if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			return elbv2.StateUnhealthy, "Target.Timeout"
		}
		return elbv2.StateUnhealthy, "Target.FailedHealthChecks"
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return elbv2.StateUnhealthy, "Target.ResponseCodeMismatch"
	}
	return elbv2.StateHealthy, ""
}
