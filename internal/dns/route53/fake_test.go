package route53

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/dns"
)

// fakeAPI is an in-memory Route 53 zone with the batch semantics the
// provider relies on: changes checked in order against a working copy,
// DELETE only of an exactly matching set, CREATE only of a free key, and
// the whole batch applied or nothing. Errors can be injected per operation.
type fakeAPI struct {
	t        *testing.T
	mu       sync.Mutex
	zoneID   string
	zoneName string
	sets     []types.ResourceRecordSet // as Route 53 would list them (escaped names)
	pageSize int

	inject  map[string][]error // op name → errors returned before real handling
	calls   map[string]int
	lists   []route53.ListResourceRecordSetsInput
	batches []types.ChangeBatch
	status  map[string]types.ChangeStatus
	nextID  int
}

func newFake(t *testing.T, sets ...types.ResourceRecordSet) *fakeAPI {
	return &fakeAPI{
		t: t, zoneID: "Z1", zoneName: "example.com.", sets: sets, pageSize: 100,
		inject: map[string][]error{}, calls: map[string]int{}, status: map[string]types.ChangeStatus{},
	}
}

func (f *fakeAPI) pop(op string) error {
	f.calls[op]++
	if q := f.inject[op]; len(q) > 0 {
		f.inject[op] = q[1:]
		return q[0]
	}
	return nil
}

func (f *fakeAPI) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func reversed(name string) string {
	labels := strings.Split(strings.TrimSuffix(dns.Fqdn(unescapeName(name)), "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}

func sortKey(name, typ, id string) string { return reversed(name) + "\x00" + typ + "\x00" + id }

func setKey(rr types.ResourceRecordSet) string {
	return sortKey(aws.ToString(rr.Name), string(rr.Type), aws.ToString(rr.SetIdentifier))
}

func (f *fakeAPI) checkZone(id *string) error {
	if aws.ToString(id) != f.zoneID {
		return &types.NoSuchHostedZone{Message: aws.String("No hosted zone found with ID: " + aws.ToString(id))}
	}
	return nil
}

func (f *fakeAPI) ListResourceRecordSets(_ context.Context, in *route53.ListResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, *in)
	if err := f.pop("List"); err != nil {
		return nil, err
	}
	if err := f.checkZone(in.HostedZoneId); err != nil {
		return nil, err
	}
	sorted := slices.Clone(f.sets)
	slices.SortFunc(sorted, func(a, b types.ResourceRecordSet) int { return strings.Compare(setKey(a), setKey(b)) })
	start := sortKey(aws.ToString(in.StartRecordName), string(in.StartRecordType), aws.ToString(in.StartRecordIdentifier))
	i := 0
	for i < len(sorted) && setKey(sorted[i]) < start {
		i++
	}
	out := &route53.ListResourceRecordSetsOutput{MaxItems: aws.Int32(int32(f.pageSize))}
	end := min(len(sorted), i+f.pageSize)
	out.ResourceRecordSets = sorted[i:end]
	if end < len(sorted) {
		next := sorted[end]
		out.IsTruncated = true
		out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = next.Name, next.Type, next.SetIdentifier
	}
	return out, nil
}

func (f *fakeAPI) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, *in.ChangeBatch)
	if err := f.pop("Change"); err != nil {
		return nil, err
	}
	if err := f.checkZone(in.HostedZoneId); err != nil {
		return nil, err
	}
	work := slices.Clone(f.sets)
	for _, c := range in.ChangeBatch.Changes {
		rr := *c.ResourceRecordSet
		desc := fmt.Sprintf("[name='%s', type='%s'", aws.ToString(rr.Name), rr.Type)
		if rr.SetIdentifier != nil {
			desc += fmt.Sprintf(", set-identifier='%s'", *rr.SetIdentifier)
		}
		desc += "]"
		at := slices.IndexFunc(work, func(s types.ResourceRecordSet) bool { return setKey(s) == setKey(rr) })
		switch c.Action {
		case types.ChangeActionDelete:
			if at < 0 {
				return nil, invalidBatch("Tried to delete resource record set " + desc + " but it was not found")
			}
			if !fromSDK(work[at]).Equal(fromSDK(rr)) {
				return nil, invalidBatch("Tried to delete resource record set " + desc + " but the values provided do not match the current values")
			}
			work = slices.Delete(work, at, at+1)
		case types.ChangeActionCreate:
			if at >= 0 {
				return nil, invalidBatch("Tried to create resource record set " + desc + " but it already exists")
			}
			work = append(work, rr)
		default:
			f.t.Errorf("provider sent action %s; only DELETE and CREATE are allowed", c.Action)
			return nil, &types.InvalidInput{Message: aws.String("unexpected action")}
		}
	}
	f.sets = work
	f.nextID++
	id := fmt.Sprintf("C%04d", f.nextID)
	f.status[id] = types.ChangeStatusPending
	return &route53.ChangeResourceRecordSetsOutput{ChangeInfo: &types.ChangeInfo{Id: aws.String("/change/" + id), Status: types.ChangeStatusPending}}, nil
}

func invalidBatch(msg string) error {
	return &types.InvalidChangeBatch{Message: aws.String("[" + msg + "]")}
}

func (f *fakeAPI) GetChange(_ context.Context, in *route53.GetChangeInput, _ ...func(*route53.Options)) (*route53.GetChangeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.pop("GetChange"); err != nil {
		return nil, err
	}
	st, ok := f.status[aws.ToString(in.Id)]
	if !ok {
		return nil, &types.NoSuchChange{Message: aws.String("no change " + aws.ToString(in.Id))}
	}
	return &route53.GetChangeOutput{ChangeInfo: &types.ChangeInfo{Id: aws.String("/change/" + aws.ToString(in.Id)), Status: st}}, nil
}

func (f *fakeAPI) GetHostedZone(_ context.Context, in *route53.GetHostedZoneInput, _ ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.pop("GetHostedZone"); err != nil {
		return nil, err
	}
	if err := f.checkZone(in.Id); err != nil {
		return nil, err
	}
	return &route53.GetHostedZoneOutput{HostedZone: &types.HostedZone{Id: aws.String("/hostedzone/" + f.zoneID), Name: aws.String(f.zoneName)}}, nil
}

// sdkA builds a simple A set as Route 53 lists it.
func sdkA(name string, ttl int64, values ...string) types.ResourceRecordSet {
	rr := types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rr.ResourceRecords = append(rr.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rr
}

func sdkWeighted(name, typ, id string, weight, ttl int64, value string) types.ResourceRecordSet {
	return types.ResourceRecordSet{
		Name: aws.String(name), Type: types.RRType(typ), SetIdentifier: aws.String(id),
		Weight: aws.Int64(weight), TTL: aws.Int64(ttl),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}},
	}
}

func (f *fakeAPI) GetHealthCheck(context.Context, *route53.GetHealthCheckInput, ...func(*route53.Options)) (*route53.GetHealthCheckOutput, error) {
	return nil, fmt.Errorf("fake: GetHealthCheck not modelled")
}

func (f *fakeAPI) UpdateHealthCheck(context.Context, *route53.UpdateHealthCheckInput, ...func(*route53.Options)) (*route53.UpdateHealthCheckOutput, error) {
	return nil, fmt.Errorf("fake: UpdateHealthCheck not modelled")
}
