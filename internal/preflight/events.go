package preflight

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/store"
)

// Events are what a run's log records of the preflight it was created
// after: one EventPreflightWaived per waived failure, then
// EventPreflightPassed with the whole checklist.
func Events(rep Report) []store.Event {
	var out []store.Event
	for _, r := range rep.Waived() {
		data, _ := json.Marshal(r)
		out = append(out, store.Event{Type: store.EventPreflightWaived, Data: data,
			Message: fmt.Sprintf("preflight check %s waived: %s", r.Name, r.Evidence)})
	}
	data, _ := json.Marshal(rep)
	out = append(out, store.Event{Type: store.EventPreflightPassed, Data: data, Message: "preflight: " + rep.Summary()})
	return out
}

// DecommissionEvent records a decommission checklist in a run's log.
func DecommissionEvent(rep Report) store.Event {
	data, _ := json.Marshal(rep)
	msg := "decommission checks: " + rep.Summary()
	if failed := rep.Failed(); len(failed) > 0 {
		names := make([]string, len(failed))
		for i, r := range failed {
			names[i] = r.Name
		}
		msg += "; failing: " + strings.Join(names, ", ")
	}
	return store.Event{Type: store.EventDecommissionChecked, Data: data, Message: msg}
}
