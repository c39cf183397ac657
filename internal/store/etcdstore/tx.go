package etcdstore

import (
	"bytes"
	"context"
	"net/url"
	"sort"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cutover/cutover/internal/store/internal/core"
)

// etcdTx is core.Tx over etcd as an optimistic transaction: every read is
// taken at one revision of the cluster (the first read's), writes are held
// back, and commit submits them in one etcd Txn conditioned on nothing read
// having changed since: each key read keeps its ModRevision, each range
// scanned has no key modified after the read revision. So a Commit is
// conditioned on the run's key (its revision) and the lease's key (owner and
// token), and a write that lost the race is run again on fresh reads.
type etcdTx struct {
	ctx    context.Context
	kv     clientv3.KV
	prefix string

	rev    int64             // revision of every read; 0 before the first
	reads  map[string]int64  // key → ModRevision seen (0: absent)
	vals   map[string][]byte // key → value seen, so a key is fetched once
	ranges [][2]string       // [start, end) of every range read
	order  []string          // keys written, in order
	writes map[string]write
	// cmps are extra conditions; fence, when set, says whether a refused
	// Txn failed on them (an error) rather than on a concurrent write.
	cmps  []clientv3.Cmp
	fence func() error
	err   error // the first client error; the call fails with it
}

type write struct {
	value []byte
	lease clientv3.LeaseID
}

var _ core.Tx = (*etcdTx)(nil)

// bucketPrefix is the key prefix of bucket b: its path, each element
// escaped so that no bucket's prefix is a prefix of another's ("a" and
// "a/b" are "a/" and "a%2Fb/").
func bucketPrefix(prefix string, b core.Bucket) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	for _, name := range b {
		sb.WriteString(url.PathEscape(name))
		sb.WriteByte('/')
	}
	return sb.String()
}

func (t *etcdTx) key(b core.Bucket, key []byte) string {
	return bucketPrefix(t.prefix, b) + string(key)
}

func (t *etcdTx) opts(extra ...clientv3.OpOption) []clientv3.OpOption {
	if t.rev > 0 {
		extra = append(extra, clientv3.WithRev(t.rev))
	}
	return extra
}

func (t *etcdTx) get(key string, extra ...clientv3.OpOption) *clientv3.GetResponse {
	if t.err != nil {
		return nil
	}
	resp, err := t.kv.Get(t.ctx, key, t.opts(extra...)...)
	if err != nil {
		t.err = err
		return nil
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp
}

// Get implements core.Tx.
func (t *etcdTx) Get(b core.Bucket, key []byte) []byte {
	k := t.key(b, key)
	if w, ok := t.writes[k]; ok {
		return w.value
	}
	if v, ok := t.vals[k]; ok {
		return v
	}
	resp := t.get(k)
	if resp == nil {
		return nil
	}
	if len(resp.Kvs) == 0 {
		t.reads[k], t.vals[k] = 0, nil
		return nil
	}
	t.reads[k], t.vals[k] = resp.Kvs[0].ModRevision, resp.Kvs[0].Value
	return resp.Kvs[0].Value
}

// Put implements core.Tx.
func (t *etcdTx) Put(b core.Bucket, key, value []byte) error {
	t.put(t.key(b, key), value, 0)
	return nil
}

// put stages a write, attached to lease when it is not 0.
func (t *etcdTx) put(key string, value []byte, lease clientv3.LeaseID) {
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = write{value: bytes.Clone(value), lease: lease}
}

// scan reads bucket b's keys from start on (the whole bucket is
// conditioned, whatever the start), merged with this transaction's writes.
func (t *etcdTx) scan(b core.Bucket, start string, extra ...clientv3.OpOption) map[string][]byte {
	bp := bucketPrefix(t.prefix, b)
	end := clientv3.GetPrefixRangeEnd(bp)
	if start == "" {
		start = bp
	}
	resp := t.get(start, append(extra, clientv3.WithRange(end))...)
	if resp == nil {
		return nil
	}
	t.ranges = append(t.ranges, [2]string{bp, end})
	m := map[string][]byte{}
	for _, kv := range resp.Kvs {
		m[string(kv.Key)] = kv.Value
	}
	for k, w := range t.writes {
		if k >= start && k < end {
			m[k] = w.value
		}
	}
	return m
}

// Scan implements core.Tx.
func (t *etcdTx) Scan(b core.Bucket, after []byte, fn func(k, v []byte) error) error {
	bp := bucketPrefix(t.prefix, b)
	start := ""
	if after != nil {
		start = bp + string(after) + "\x00"
	}
	m := t.scan(b, start)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k[len(bp):]), m[k]); err != nil {
			return err
		}
	}
	return nil
}

// LastKey implements core.Tx.
func (t *etcdTx) LastKey(b core.Bucket) []byte {
	bp := bucketPrefix(t.prefix, b)
	m := t.scan(b, "", clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(1))
	last := ""
	for k := range m {
		if k > last {
			last = k
		}
	}
	if last == "" {
		return nil
	}
	return []byte(last[len(bp):])
}

// commit submits the writes if nothing read changed; ok is false when
// something did (or an extra condition failed). A transaction without
// writes commits nothing: its reads were one consistent snapshot.
func (t *etcdTx) commit() (ok bool, err error) {
	if len(t.writes) == 0 {
		return true, nil
	}
	cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.ranges)+len(t.cmps))
	for k, mod := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", mod))
	}
	for _, r := range t.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r[0]), "<", t.rev+1).WithRange(r[1]))
	}
	cmps = append(cmps, t.cmps...)
	ops := make([]clientv3.Op, 0, len(t.order))
	for _, k := range t.order {
		w := t.writes[k]
		var opts []clientv3.OpOption
		if w.lease != 0 {
			opts = append(opts, clientv3.WithLease(w.lease))
		}
		ops = append(ops, clientv3.OpPut(k, string(w.value), opts...))
	}
	resp, err := t.kv.Txn(t.ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}
