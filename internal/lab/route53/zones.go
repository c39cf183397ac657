package route53

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// recordIndex holds a zone's record sets by key and by name.
type recordIndex struct {
	sets   map[rrKey]RecordSet
	byName map[string]map[rrKey]struct{}
}

func newRecordIndex() *recordIndex {
	return &recordIndex{sets: map[rrKey]RecordSet{}, byName: map[string]map[rrKey]struct{}{}}
}

// clone copies the index; the sets themselves are never mutated in place, so
// they are shared.
func (ix *recordIndex) clone() *recordIndex {
	c := &recordIndex{sets: make(map[rrKey]RecordSet, len(ix.sets)), byName: make(map[string]map[rrKey]struct{}, len(ix.byName))}
	for k, v := range ix.sets {
		c.sets[k] = v
	}
	for n, ks := range ix.byName {
		m := make(map[rrKey]struct{}, len(ks))
		for k := range ks {
			m[k] = struct{}{}
		}
		c.byName[n] = m
	}
	return c
}

func (ix *recordIndex) len() int { return len(ix.sets) }

func (ix *recordIndex) get(k rrKey) (RecordSet, bool) {
	rs, ok := ix.sets[k]
	return rs, ok
}

func (ix *recordIndex) put(rs RecordSet) {
	k := rs.key()
	ix.sets[k] = rs
	m := ix.byName[k.name]
	if m == nil {
		m = map[rrKey]struct{}{}
		ix.byName[k.name] = m
	}
	m[k] = struct{}{}
}

func (ix *recordIndex) del(k rrKey) {
	delete(ix.sets, k)
	if m := ix.byName[k.name]; m != nil {
		delete(m, k)
		if len(m) == 0 {
			delete(ix.byName, k.name)
		}
	}
}

// atName returns the sets at one name, sorted by type then set identifier.
func (ix *recordIndex) atName(name string) []RecordSet {
	m := ix.byName[name]
	out := make([]RecordSet, 0, len(m))
	for k := range m {
		out = append(out, ix.sets[k])
	}
	sort.Slice(out, func(i, j int) bool { return lessKey(out[i].key(), out[j].key()) })
	return out
}

// sorted returns every set in ListResourceRecordSets order.
func (ix *recordIndex) sorted() []RecordSet {
	out := make([]RecordSet, 0, len(ix.sets))
	for _, rs := range ix.sets {
		out = append(out, rs)
	}
	sort.Slice(out, func(i, j int) bool { return lessKey(out[i].key(), out[j].key()) })
	return out
}

// lessKey orders record sets as ListResourceRecordSets does: name with
// labels reversed, then type, then set identifier.
func lessKey(a, b rrKey) bool {
	if a.name != b.name {
		return nameSortKey(a.name) < nameSortKey(b.name)
	}
	if a.typ != b.typ {
		return a.typ < b.typ
	}
	return a.setID < b.setID
}

func (ix *recordIndex) apply(c Change) {
	if c.Action == ActionDelete {
		ix.del(c.Set.key())
	} else {
		ix.put(c.Set)
	}
}

// batch is a committed change batch waiting to become visible to resolvers.
type batch struct {
	insyncAt time.Time
	changes  []Change
}

// changeRecord is what GetChange reports on.
type changeRecord struct {
	id, account, comment string
	submittedAt          time.Time
	insyncAt             time.Time
}

func (c *changeRecord) status(now time.Time) ChangeStatus {
	st := StatusPending
	if !now.Before(c.insyncAt) {
		st = StatusInSync
	}
	return ChangeStatus{ID: c.id, Status: st, SubmittedAt: c.submittedAt, InSyncAt: c.insyncAt, Comment: c.comment}
}

// zone is one hosted zone. records is the API view (what
// ListResourceRecordSets shows, PENDING changes included); served is the
// zone as of the newest batch that is INSYNC, which is what the lab's DNS
// server answers from. pending holds the committed batches not yet folded
// into served, in commit order with non-decreasing INSYNC times.
type zone struct {
	id, name, account  string
	callerRef, comment string
	private            bool
	vpcRegion, vpcID   string
	nameServers        []string
	delegationSet      string // id of the reusable delegation set it uses, if any
	seq                uint64
	visibleAt          time.Time // INSYNC time of the creation change
	records            *recordIndex
	served             *recordIndex
	servedExists       map[string]bool // names with records or descendants; nil = stale
	pending            []batch
	lastInsync         time.Time // INSYNC time of the newest change
}

func (z *zone) view() ZoneView {
	return ZoneView{
		ID: z.id, Name: z.name, Account: z.account, Private: z.private, Comment: z.comment,
		CallerReference: z.callerRef, NameServers: append([]string{}, z.nameServers...), RecordSetCount: z.records.len(),
	}
}

// fold moves every batch that is INSYNC at now into the served view.
func (z *zone) fold(now time.Time) {
	n := 0
	for n < len(z.pending) && !now.Before(z.pending[n].insyncAt) {
		for _, c := range z.pending[n].changes {
			z.served.apply(c)
		}
		n++
	}
	if n > 0 {
		z.pending = z.pending[n:]
		z.servedExists = nil
	}
}

// exists reports whether name exists in the served zone: it owns records or
// is an ancestor (an empty non-terminal) of a name that does. A name that
// exists blocks wildcard synthesis (RFC 4592).
func (z *zone) exists(name string) bool {
	if z.servedExists == nil {
		z.servedExists = map[string]bool{}
		for n := range z.served.byName {
			for ; within(n, z.name); n = parent(n) {
				if z.servedExists[n] {
					break
				}
				z.servedExists[n] = true
				if n == z.name {
					break
				}
			}
		}
	}
	return z.servedExists[name]
}

// identityFor is the identity the Go API acts as.
func identityFor(account string) awsapi.Identity {
	if account == "" {
		account = awsapi.DefaultAccountID
	}
	return awsapi.Identity{AccountID: account, ARN: "arn:aws:iam::" + account + ":root", UserID: account}
}

func noSuchZone(id string) *awsapi.Error {
	return awsapi.Errorf(http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
}

// zoneFor finds a zone the caller's account owns.
func (s *Service) zoneFor(id awsapi.Identity, zoneID string) (*zone, *awsapi.Error) {
	zid := canonicalID(zoneID)
	z := s.zones[zid]
	if z == nil {
		return nil, noSuchZone(zid)
	}
	if z.account != id.AccountID {
		return nil, awsapi.Errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to access this resource", id.ARN)
	}
	return z, nil
}

// commit records a change for z: a change id, the batch's INSYNC time and,
// when changes is non-empty, a pending batch for the served view. INSYNC
// times never go backwards within a zone, so resolvers see a zone's changes
// in the order they were made even with per-change jitter.
func (s *Service) commit(z *zone, account, comment string, changes []Change) *changeRecord {
	now := s.env.Clock.Now()
	insync := now.Add(s.propagationDelay())
	if insync.Before(z.lastInsync) {
		insync = z.lastInsync
	}
	z.lastInsync = insync
	c := &changeRecord{id: s.newID('C'), account: account, comment: comment, submittedAt: now, insyncAt: insync}
	s.changes[c.id] = c
	if len(changes) > 0 {
		z.pending = append(z.pending, batch{insyncAt: insync, changes: changes})
	}
	return c
}

// createZone is CreateHostedZone, shared by the HTTP API and CreateZone.
func (s *Service) createZone(id awsapi.Identity, name, callerRef, comment string, private bool, vpcRegion, vpcID string, set *delegationSet) (*zone, *changeRecord, *awsapi.Error) {
	raw, problem := parseName(name)
	if problem != "" || raw == "." {
		return nil, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidDomainName", "%s is not a valid domain name", name)
	}
	if !private && len(splitLabels(raw)) < 2 {
		return nil, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidDomainName", "%s is reserved by AWS!", strings.TrimSuffix(encodeName(raw), "."))
	}
	refKey := id.AccountID + "\x00" + callerRef
	if _, dup := s.zoneRefs[refKey]; dup {
		return nil, nil, awsapi.Errorf(http.StatusConflict, "HostedZoneAlreadyExists", "A hosted zone has already been created with the specified caller reference.")
	}
	n := 0
	for _, z := range s.zones {
		if z.account == id.AccountID {
			n++
		}
	}
	if n >= maxZonesPerAcct {
		return nil, nil, awsapi.Errorf(http.StatusBadRequest, "TooManyHostedZones", "Limits Exceeded: MAX_HOSTED_ZONES_BY_OWNER - Cannot create more hosted zones.")
	}
	s.seq++
	z := &zone{
		id: s.newID('Z'), name: raw, account: id.AccountID, callerRef: callerRef, comment: comment,
		private: private, vpcRegion: vpcRegion, vpcID: vpcID, seq: s.seq,
		records: newRecordIndex(), served: newRecordIndex(),
	}
	if set != nil {
		z.nameServers, z.delegationSet = append([]string{}, set.nameServers...), set.id
	} else {
		z.nameServers = s.newNameServers()
	}
	ns := make([]string, len(z.nameServers))
	for i, n := range z.nameServers {
		ns[i] = n + "."
	}
	defaults := []Change{
		{Action: ActionCreate, Set: RecordSet{Name: raw, Type: "SOA", TTL: Int64(soaTTL), Records: []string{ns[0] + soaTail}}},
		{Action: ActionCreate, Set: RecordSet{Name: raw, Type: "NS", TTL: Int64(nsTTL), Records: ns}},
	}
	for _, c := range defaults {
		z.records.put(c.Set)
	}
	s.zones[z.id] = z
	s.zoneRefs[refKey] = z.id
	ch := s.commit(z, id.AccountID, "", defaults)
	z.visibleAt = ch.insyncAt
	s.env.History.Record(id, "route53", "CreateHostedZone", "/hostedzone/"+z.id, nil, z.view())
	return z, ch, nil
}

// deleteZone is DeleteHostedZone.
func (s *Service) deleteZone(id awsapi.Identity, zoneID string) (*changeRecord, *awsapi.Error) {
	z, err := s.zoneFor(id, zoneID)
	if err != nil {
		return nil, err
	}
	if err := s.priorRequest(z); err != nil {
		return nil, err
	}
	for k := range z.records.sets {
		if k.name != z.name || (k.typ != "SOA" && k.typ != "NS") || k.setID != "" {
			return nil, awsapi.Errorf(http.StatusBadRequest, "HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
		}
	}
	before := z.view()
	ch := s.commit(z, id.AccountID, "", nil)
	// The zone stops being served at once: the lab models zone deletion as
	// immediate, unlike record changes.
	delete(s.zones, z.id)
	s.env.History.Record(id, "route53", "DeleteHostedZone", "/hostedzone/"+z.id, before, nil)
	return ch, nil
}

// priorRequest implements Options.SerializeChanges.
func (s *Service) priorRequest(z *zone) *awsapi.Error {
	if s.opts.SerializeChanges && s.env.Clock.Now().Before(z.lastInsync) {
		return awsapi.Errorf(http.StatusBadRequest, "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.")
	}
	return nil
}

// historyState is what the change history records for a change batch.
type historyState struct {
	ChangeID string      `json:"changeId,omitempty"`
	Comment  string      `json:"comment,omitempty"`
	Sets     []RecordSet `json:"sets"`
}

// changeRecordSets is ChangeResourceRecordSets, shared by the HTTP API and
// ApplyChanges: validate the whole batch in order against a working copy,
// then commit it atomically or reject it whole.
func (s *Service) changeRecordSets(id awsapi.Identity, zoneID, comment string, changes []Change) (*changeRecord, *awsapi.Error) {
	z, err := s.zoneFor(id, zoneID)
	if err != nil {
		return nil, err
	}
	if err := validateInput(changes, comment); err != nil {
		return nil, err
	}
	if err := s.priorRequest(z); err != nil {
		return nil, err
	}
	work, applied, err := s.validateBatch(z, id.AccountID, changes)
	if err != nil {
		return nil, err
	}
	// The sets the batch touched, before and after, for the history.
	touched := map[rrKey]bool{}
	var keys []rrKey
	for _, c := range applied {
		if k := c.Set.key(); !touched[k] {
			touched[k] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return lessKey(keys[i], keys[j]) })
	var before, after []RecordSet
	for _, k := range keys {
		if rs, ok := z.records.get(k); ok {
			before = append(before, rs)
		}
		if rs, ok := work.get(k); ok {
			after = append(after, rs)
		}
	}
	z.records = work
	ch := s.commit(z, id.AccountID, comment, applied)
	s.env.History.Record(id, "route53", "ChangeResourceRecordSets", "/hostedzone/"+z.id,
		historyState{Sets: nonNil(before)}, historyState{ChangeID: "/change/" + ch.id, Comment: comment, Sets: nonNil(after)})
	return ch, nil
}

func nonNil(s []RecordSet) []RecordSet {
	if s == nil {
		return []RecordSet{}
	}
	return s
}

// ---- Go API for the rest of the lab ----

// CreateZone creates a hosted zone for account (the default lab account when
// empty) the way CreateHostedZone does — default SOA and NS records, a
// PENDING change — and returns its bare id ("Z…"). A private zone is
// associated with a made-up VPC and is never served.
func (s *Service) CreateZone(account, name string, private bool) (zoneID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	region, vpc := "", ""
	if private {
		region, vpc = "us-east-1", "vpc-lab"
	}
	z, _, aerr := s.createZone(identityFor(account), name, "lab-seed-"+s.newID('R'), "", private, region, vpc, nil)
	if aerr != nil {
		return "", aerr
	}
	return z.id, nil
}

// ApplyChanges submits a change batch to a zone of account through the same
// validation and commit path as ChangeResourceRecordSets, and returns the
// bare change id ("C…"). Errors are *awsapi.Error values carrying the code
// the HTTP API would answer with. zoneID may be bare or "/hostedzone/…".
func (s *Service) ApplyChanges(account, zoneID string, changes []Change) (changeID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, aerr := s.changeRecordSets(identityFor(account), zoneID, "", changes)
	if aerr != nil {
		return "", aerr
	}
	return ch.id, nil
}

// Zone describes a hosted zone by id (bare or prefixed), in any account.
func (s *Service) Zone(zoneID string) (ZoneView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[canonicalID(zoneID)]
	if z == nil {
		return ZoneView{}, false
	}
	return z.view(), true
}

// Records returns the API view of a zone — what ListResourceRecordSets
// shows, PENDING changes included — in listing order.
func (s *Service) Records(zoneID string) ([]RecordSet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[canonicalID(zoneID)]
	if z == nil {
		return nil, false
	}
	return cloneSets(z.records.sorted()), true
}

// ServedRecords returns the served view of a zone: its record sets as of
// the newest change that is INSYNC now, in listing order. ok is false for an
// unknown zone or one whose creation is still PENDING.
func (s *Service) ServedRecords(zoneID string) ([]RecordSet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[canonicalID(zoneID)]
	now := s.env.Clock.Now()
	if z == nil || now.Before(z.visibleAt) {
		return nil, false
	}
	z.fold(now)
	return cloneSets(z.served.sorted()), true
}

// ChangeInfo reports a change by id (bare or "/change/…"), in any account.
func (s *Service) ChangeInfo(changeID string) (ChangeStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.changes[canonicalID(changeID)]
	if c == nil {
		return ChangeStatus{}, false
	}
	return c.status(s.env.Clock.Now()), true
}

func cloneSets(in []RecordSet) []RecordSet {
	out := make([]RecordSet, len(in))
	for i, rs := range in {
		out[i] = rs.clone()
	}
	return out
}

// servedZoneFor finds the most specific public zone, in any account, that
// contains name and whose creation is INSYNC. Between zones of the same name
// the oldest wins (as if the parent delegated to it).
func (s *Service) servedZoneFor(name string, now time.Time) *zone {
	var best *zone
	for _, z := range s.zones {
		if z.private || now.Before(z.visibleAt) || !within(name, z.name) {
			continue
		}
		if best == nil || len(z.name) > len(best.name) || (len(z.name) == len(best.name) && z.seq < best.seq) {
			best = z
		}
	}
	return best
}

// Served answers what a resolver would get for name from Route 53 now: the
// most specific public hosted zone (any account) containing name, and the
// record sets at name in that zone's served view (the newest INSYNC state).
// When name owns no records and does not exist even as an empty
// non-terminal, the wildcard at its closest encloser applies (RFC 4592); the
// synthesized sets carry name as their Name. name is in raw form (see
// RecordSet); case and the trailing dot do not matter. ok is false when no
// served zone contains name; ok with no sets is NODATA or NXDOMAIN, which
// the caller tells apart with ServedRecords if it needs to.
func (s *Service) Served(name string) (zone ZoneView, sets []RecordSet, ok bool) {
	raw, problem := parseName(name)
	if problem != "" {
		return ZoneView{}, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	z := s.servedZoneFor(raw, now)
	if z == nil {
		return ZoneView{}, nil, false
	}
	z.fold(now)
	if found := z.served.atName(raw); len(found) > 0 || z.exists(raw) {
		return z.view(), cloneSets(found), true
	}
	// Closest encloser, then the wildcard below it.
	ce := parent(raw)
	for ce != z.name && !z.exists(ce) {
		ce = parent(ce)
	}
	wild := z.served.atName("*." + ce)
	out := cloneSets(wild)
	for i := range out {
		out[i].Name = raw
	}
	return z.view(), out, true
}

// ServedZones lists the zones the lab's DNS server is authoritative for:
// public zones whose creation is INSYNC, sorted by name then age.
func (s *Service) ServedZones() []ZoneView {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	var zs []*zone
	for _, z := range s.zones {
		if !z.private && !now.Before(z.visibleAt) {
			zs = append(zs, z)
		}
	}
	sort.Slice(zs, func(i, j int) bool {
		if zs[i].name != zs[j].name {
			return nameSortKey(zs[i].name) < nameSortKey(zs[j].name)
		}
		return zs[i].seq < zs[j].seq
	})
	out := make([]ZoneView, len(zs))
	for i, z := range zs {
		out[i] = z.view()
	}
	return out
}

// LookupTXT returns the served TXT values at name, each record's character
// strings decoded and concatenated (`"d111.cloudfront.net"` gives
// d111.cloudfront.net). CloudFront's AssociateAlias reads `_<alias>`.
func (s *Service) LookupTXT(name string) []string {
	_, sets, ok := s.Served(name)
	if !ok {
		return nil
	}
	var out []string
	for _, rs := range sets {
		if rs.Type != "TXT" {
			continue
		}
		for _, v := range rs.Records {
			if strs, ok := parseCharacterStrings(v); ok {
				out = append(out, strings.Join(strs, ""))
			}
		}
	}
	return out
}

// LookupCNAME returns the served CNAME target at name in raw form (lower
// case, trailing dot). ACM reads its validation record this way.
func (s *Service) LookupCNAME(name string) (string, bool) {
	_, sets, ok := s.Served(name)
	if !ok {
		return "", false
	}
	for _, rs := range sets {
		if rs.Type == "CNAME" && len(rs.Records) > 0 {
			if raw, p := parseName(rs.Records[0]); p == "" {
				return raw, true
			}
		}
	}
	return "", false
}
