// Package server is `cutover serve`: one long-running home for many runs.
// It executes every active run of its store (one engine per run, built like
// `cutover apply` builds its own, through package connect), accepts new
// plans, picks runs up again after a crash (the store's leases fence an
// old process out and let a new one take over), and serves a versioned
// JSON API, server-sent events, Prometheus metrics and a dashboard whose
// assets are embedded in the binary.
//
// # API (v1)
//
// Every body is JSON unless said otherwise; errors are {"error": "..."}
// (and, for a bad plan, "diagnostics": ["file:line:col: message", ...]).
// GETs need no token; every POST needs "Authorization: Bearer <token>" and
// is answered 401 without it.
//
//	GET  /api/v1/runs
//	     200 {"runs":[{"name","hostname","subject","bulk","strategy","state","step",
//	          "steps","title","reason","owner","updated_at","next_deadline"}]}
//	     subject is what the run moves (its hostname, or "N hostnames in Z
//	     zones"); bulk, for a run of many hostnames, counts those at the
//	     run's step and groups the held ones by step and reason (as
//	     `cutover status -o json` does); step is 1-based (the step in
//	     progress; steps once done), title its title; owner is
//	     the lease owner when this server executes the run, else empty;
//	     next_deadline is the earliest stored deadline (RFC 3339) or null.
//	GET  /api/v1/runs/{name}
//	     200 {"run":<store.Run>,"runbook":<runbook.Runbook>,"events":[<store.Event>],
//	          "deadlines":{"<timer>":"<RFC 3339>"},"summary":<the run's row of the list>};
//	     404 when there is no such run.
//	POST /api/v1/runs[?name=RUN][&file=PATH][&dry_run=1][&force=1]
//	     body: the plan YAML. 201 {"name":RUN}: compiled against the world
//	     and started. name overrides the plan's name; file is the name
//	     diagnostics give the plan (default plan.yaml). A bad plan is 400
//	     with the diagnostics; a name in use is 409, except the same plan
//	     again while its run is active: 200 {"name":RUN,"existing":true}.
//	     dry_run=1 compiles without creating: 200 {"name":RUN,"plan":"<text>",
//	     "brake":{...}}. A plan the safety brake refuses (NS/SOA, the apex,
//	     more than brake.max_share of the zone) is 400 {"error","brake"}
//	     unless force=1, as apply refuses it without --force.
//	POST /api/v1/runs/{name}/{pause|resume|rollback|promote|skip}
//	     202 {"name":RUN,"requested":ACTION}; 404 no such run; 409 the run
//	     has ended.
//	GET  /api/v1/runs/{name}/split
//	     200 {"points":[{"at":"<RFC 3339>","intended_new":0-100,"observed_new":0-100|null}]}
//	     from Options.Split; the default (IntendedSplit) takes intended_new
//	     from the change events' weights and leaves observed_new null.
//	GET  /api/v1/events[?run=RUN]
//	     text/event-stream: for every event (of RUN, or of every run), one
//	     "id: RUN/SEQ", "event: <type>", "data: <store.Event>" message;
//	     the stream starts with the events already logged, or, reconnecting
//	     with Last-Event-ID: RUN/SEQ, after that event.
//	GET  /metrics
//	     Prometheus text: cutover_runs{state}, cutover_run_step{run},
//	     cutover_run_steps{run}, cutover_gate_value{run,gate},
//	     cutover_gate_threshold{run,gate},
//	     cutover_run_next_deadline_seconds{run}.
//	GET  /
//	     the dashboard (HTML, JS and CSS embedded; nothing from outside).
package server
