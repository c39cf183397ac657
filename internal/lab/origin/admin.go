package origin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// AdminPrefix is where the lab mounts the admin handler.
const AdminPrefix = "/_lab/origins"

// Registry holds the lab's running origins by name. It is safe for
// concurrent use.
type Registry struct {
	mu      sync.Mutex
	origins map[string]*Origin
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{origins: map[string]*Origin{}} }

// Start starts an origin and registers it; names are unique.
func (r *Registry) Start(name, addr string) (*Origin, error) {
	r.mu.Lock()
	_, dup := r.origins[name]
	r.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("starting origin %s: name already in use", name)
	}
	o, err := Start(name, addr)
	if err != nil {
		return nil, err
	}
	if err := r.Add(o); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// Add registers an origin started elsewhere.
func (r *Registry) Add(o *Origin) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.origins[o.name]; dup {
		return fmt.Errorf("registering origin %s: name already in use", o.name)
	}
	r.origins[o.name] = o
	return nil
}

// Get returns the origin called name.
func (r *Registry) Get(name string) (*Origin, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.origins[name]
	return o, ok
}

// List returns the origins sorted by name.
func (r *Registry) List() []*Origin {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Origin, 0, len(r.origins))
	for _, o := range r.origins {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Close stops every origin.
func (r *Registry) Close() {
	for _, o := range r.List() {
		o.Close()
	}
}

// FaultJSON is a Fault on the wire: latency as a Go duration string
// ("250ms") so people can type it.
type FaultJSON struct {
	ErrorRate float64 `json:"error_rate"`
	Status    int     `json:"status,omitempty"`
	Latency   string  `json:"latency,omitempty"`
	Refuse    bool    `json:"refuse"`
}

func toJSON(f Fault) FaultJSON {
	j := FaultJSON{ErrorRate: f.ErrorRate, Status: f.Status, Refuse: f.Refuse}
	if f.Latency > 0 {
		j.Latency = f.Latency.String()
	}
	return j
}

// Fault converts the wire form back, rejecting a malformed latency.
func (j FaultJSON) Fault() (Fault, error) {
	f := Fault{ErrorRate: j.ErrorRate, Status: j.Status, Refuse: j.Refuse}
	if j.Latency != "" {
		d, err := time.ParseDuration(j.Latency)
		if err != nil {
			return Fault{}, fmt.Errorf("latency %q: %w", j.Latency, err)
		}
		f.Latency = d
	}
	return f, f.validate()
}

// Info is one origin as the admin handler lists it.
type Info struct {
	Name  string    `json:"name"`
	Addr  string    `json:"addr"`
	Fault FaultJSON `json:"fault"`
	Stats Stats     `json:"stats"`
}

func info(o *Origin) Info {
	return Info{Name: o.name, Addr: o.Addr(), Fault: toJSON(o.Fault()), Stats: o.Stats()}
}

// ServeHTTP is the admin API, mounted at AdminPrefix (the prefix may also
// have been stripped already):
//
//	GET  /_lab/origins               → {"origins":[Info…]}
//	GET  /_lab/origins/<name>        → Info
//	PUT  /_lab/origins/<name>/fault  ← FaultJSON → Info
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(req.URL.Path, AdminPrefix), "/")
	parts := strings.Split(rest, "/")
	switch {
	case rest == "":
		if req.Method != http.MethodGet {
			adminError(w, http.StatusMethodNotAllowed, "method %s not allowed", req.Method)
			return
		}
		list := []Info{}
		for _, o := range r.List() {
			list = append(list, info(o))
		}
		writeJSON(w, http.StatusOK, map[string]any{"origins": list})
	case len(parts) == 1 && req.Method == http.MethodGet:
		o, ok := r.Get(parts[0])
		if !ok {
			adminError(w, http.StatusNotFound, "no origin named %q", parts[0])
			return
		}
		writeJSON(w, http.StatusOK, info(o))
	case len(parts) == 2 && parts[1] == "fault":
		if req.Method != http.MethodPut && req.Method != http.MethodPost {
			adminError(w, http.StatusMethodNotAllowed, "method %s not allowed", req.Method)
			return
		}
		o, ok := r.Get(parts[0])
		if !ok {
			adminError(w, http.StatusNotFound, "no origin named %q", parts[0])
			return
		}
		f, err := decodeFault(req.Body)
		if err != nil {
			adminError(w, http.StatusBadRequest, "%v", err)
			return
		}
		if err := o.SetFault(f); err != nil {
			adminError(w, http.StatusBadRequest, "%v", err)
			return
		}
		writeJSON(w, http.StatusOK, info(o))
	default:
		adminError(w, http.StatusNotFound, "no such admin path %q", req.URL.Path)
	}
}

// decodeFault reads a FaultJSON strictly: unknown fields are an error, so
// a typo ("errorRate") does not silently mean "no fault".
func decodeFault(body io.Reader) (Fault, error) {
	if body == nil {
		return Fault{}, errors.New("missing fault body")
	}
	dec := json.NewDecoder(io.LimitReader(body, 1<<16))
	dec.DisallowUnknownFields()
	var j FaultJSON
	if err := dec.Decode(&j); err != nil {
		return Fault{}, fmt.Errorf("decoding fault: %w", err)
	}
	if dec.More() {
		return Fault{}, errors.New("decoding fault: trailing data after the object")
	}
	return j.Fault()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// ClearFaults turns every origin's fault off.
func (r *Registry) ClearFaults() {
	for _, o := range r.List() {
		_ = o.SetFault(Fault{}) // the zero fault is always valid
	}
}
