package plan

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// SchemaID is the $id of the plan JSON Schema.
const SchemaID = "https://cutover.dev/schema/cutover-v1.json"

// durationPattern matches what ParseDuration accepts.
const durationPattern = `^[+-]?(0|([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h|d))+$`

// fieldMeta is what the schema says about one field beyond its type. Every
// field the decoder accepts has an entry (a test holds the two together).
type fieldMeta struct {
	desc    string
	enum    []string
	pattern string
	min     *float64
	exclMin bool // min itself is not allowed
	max     *float64
	def     any
}

func num(f float64) *float64 { return &f }

func strategyNames() []string {
	out := make([]string, len(Strategies))
	for i, s := range Strategies {
		out[i] = string(s)
	}
	return out
}

// fieldDocs describes every field, keyed by Go type name and YAML key.
var fieldDocs = map[string]fieldMeta{
	"Plan.apiVersion": {desc: "Format version.", enum: []string{APIVersion}},
	"Plan.kind":       {desc: "Document kind.", enum: []string{Kind}},
	"Plan.name":       {desc: "Run name: lower-case letters, digits and hyphens, 1-63 characters.", pattern: `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`},
	"Plan.hostname":   {desc: "The lower-case FQDN whose traffic moves; a trailing dot is optional."},
	"Plan.hostnames":  {desc: "Bulk plan: selectors of the hostnames that move together (instead of `hostname`), in one or many Route 53 zones; strategy weighted (default) or flip."},
	"Plan.zone":       {desc: "The DNS zone holding the hostname's records; with `hostnames`, the provider and role settings, and the zone of selectors naming none."},
	"Plan.from":       {desc: "The edge serving the hostname today."},
	"Plan.to":         {desc: "The edge that will serve it; with strategy staging it defaults to `from`."},
	"Plan.strategy":   {desc: "How traffic moves. Default: weighted when neither edge is CloudFront, staging when from and to are the same distribution, auto otherwise.", enum: strategyNames()},
	"Plan.ttl":        {desc: "Record TTLs before, during and after the move."},
	"Plan.steps":      {desc: "Weights for the new edge in percent, strictly increasing, ending at 100. Default 1, 10, 50, 90, 100 with 5m pauses."},
	"Plan.gates":      {desc: "Checks that must keep passing while traffic moves."},
	"Plan.verify":     {desc: "How to tell which edge served a request."},
	"Plan.hold":       {desc: "How long the old edge is kept (rollback stays one command). Default 72h.", def: "72h"},
	"Plan.alias_move": {desc: "Tuning for strategy alias-move."},
	"Plan.bridge":     {desc: "Settings for strategy bridge (required by it)."},
	"Plan.staging":    {desc: "Settings for strategy staging (CloudFront continuous deployment)."},
	"Plan.webhooks":   {desc: "HTTP calls the run waits on (pre-step, post-step, confirm-promotion, rollback); a non-2xx answer or a timeout holds the run."},
	"Plan.notify":     {desc: "Receivers told what happens (Slack-compatible or generic JSON); they never hold the run."},

	"HostSelector.zone":  {desc: "Hosted zone id, with or without /hostedzone/. Default: zone.id."},
	"HostSelector.match": {desc: "Glob: every name of the zone with A, AAAA or CNAME records that matches; `*` stands for one or more whole leftmost labels (*.cdn.example.com).", pattern: `^(\*\.)+[^*]+$`},
	"HostSelector.names": {desc: "Hostnames, lower-case FQDNs."},
	"HostSelector.file":  {desc: "File relative to the plan's directory: one hostname per line, optionally followed by its zone id; # comments. Read when the plan is loaded."},

	"Webhook.name":        {desc: "Webhook name.", pattern: `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`},
	"Webhook.type":        {desc: "When it is called.", enum: WebhookTypes},
	"Webhook.url":         {desc: "http(s) URL receiving the POSTed JSON document."},
	"Webhook.timeout":     {desc: "Bound on each call. Default 10s.", def: "10s"},
	"Webhook.secret_env":  {desc: "Environment variable holding the HMAC-SHA256 signing secret (never stored).", pattern: `^[A-Za-z_][A-Za-z0-9_]*$`},
	"Webhook.secret_file": {desc: "File holding the signing secret (never stored)."},

	"Notification.name":    {desc: "Receiver name."},
	"Notification.kind":    {desc: "slack (incoming webhook) or webhook (generic JSON).", enum: NotifyKinds},
	"Notification.url":     {desc: "Receiver URL; exactly one of url and url_env."},
	"Notification.url_env": {desc: "Environment variable holding the receiver URL.", pattern: `^[A-Za-z_][A-Za-z0-9_]*$`},

	"Plan.brake": {desc: "Safety brake: apply refuses, without --force, a plan touching NS/SOA, the apex, or more than max_share of the zone."},

	"Brake.max_share":       {desc: "Largest share of the zone's record sets the plan may touch. Default 0.3.", min: num(0), exclMin: true, max: num(1), def: 0.3},
	"Brake.min_record_sets": {desc: "Zone size from which max_share applies. Default 10.", min: num(0), def: 10},

	// Strategy maintenance.
	"Plan.maintenance":                {desc: "Settings for strategy maintenance, whose `to` is the maintenance page."},
	"Maintenance.mode":                {desc: "weight: every live record gets weight 0 and the page 255; failover: the live record becomes the PRIMARY with health_check, the page the SECONDARY.", enum: MaintenanceModes, def: MaintenanceWeight},
	"Maintenance.health_check":        {desc: "Route 53 health check id of the live record; required by mode failover.", pattern: `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`},
	"Maintenance.invert_health_check": {desc: "Invert the health check once the failover pair is live, so the page answers at once; off puts it back. Mode failover only.", def: false},

	"Zone.provider":     {desc: "DNS provider: route53, or rfc2136 for any server taking dynamic updates with TSIG (flip and staging only: plain DNS has no weights).", enum: Providers, def: ProviderRoute53},
	"Zone.id":           {desc: "Hosted zone id, with or without /hostedzone/. Required for route53."},
	"Zone.name":         {desc: "Zone apex; when set, the hostname must lie inside it. Required for rfc2136."},
	"Zone.server":       {desc: "rfc2136: the primary taking updates, host[:port] (port 53 when left out). Required for rfc2136."},
	"Zone.nameservers":  {desc: "rfc2136: authoritative servers a change must reach, host[:port]. Default: the zone's NS records at the server's port."},
	"Zone.tsig":         {desc: "rfc2136: the TSIG key signing every update. Required for rfc2136."},
	"Zone.role_arn":     {desc: "IAM role assumed to change the zone (cross-account)."},
	"Zone.role_chain":   {desc: "IAM roles assumed in order before role_arn, each with the credentials of the one before."},
	"Zone.external_id":  {desc: "External id sent with every AssumeRole of the chain."},
	"Zone.session_name": {desc: "Name of the assumed-role sessions. Default cutover.", def: "cutover"},
	"Zone.rate_limit":   {desc: "route53: the account's request-rate regime, legacy (5 requests/s) or buckets (burst 50, 10/s); the run stays just under it. Default legacy.", enum: RateLimits, def: "legacy"},

	"TSIG.name":        {desc: "Key name, as the server knows it."},
	"TSIG.algorithm":   {desc: "HMAC algorithm. Default hmac-sha256.", enum: TSIGAlgorithms, def: "hmac-sha256"},
	"TSIG.secret_file": {desc: "File holding the base64 secret, relative to the plan's directory. Exactly one of secret_file and secret_env."},
	"TSIG.secret_env":  {desc: "Environment variable holding the base64 secret. Exactly one of secret_file and secret_env."},

	"Edge.cloudfront":   {desc: "A CloudFront distribution id, like E2QWRUHAPOMQZL."},
	"Edge.alb":          {desc: "A load balancer ARN or DNS name."},
	"Edge.endpoint":     {desc: "Any DNS name, reached through a CNAME."},
	"Edge.role_arn":     {desc: "IAM role assumed to read or change the edge (cross-account)."},
	"Edge.role_chain":   {desc: "IAM roles assumed in order before role_arn, each with the credentials of the one before."},
	"Edge.external_id":  {desc: "External id sent with every AssumeRole of the chain."},
	"Edge.session_name": {desc: "Name of the assumed-role sessions. Default cutover.", def: "cutover"},

	"TTL.cutover": {desc: "TTL in seconds set before and used during the move. Default 30.", min: num(0), max: num(MaxTTL), def: 30},
	"TTL.restore": {desc: "TTL in seconds set afterwards. Default 0: the TTL observed before the run.", min: num(0), max: num(MaxTTL), def: 0},
	"TTL.prepare": {desc: "Wait after lowering the TTL; the run always waits at least the old TTL. Default 0: the observed old TTL."},

	"Step.weight":  {desc: "Percent of traffic for the new edge. Required, except on an approval step.", min: num(0), max: num(100)},
	"Step.approve": {desc: "Make this step a manual approval: the run waits, gates watched, until `cutover promote NAME`."},

	"Approve.timeout":    {desc: "Bound on the wait for approval. Default 0: wait until promoted."},
	"Approve.on_timeout": {desc: "What happens when the timeout passes unapproved. Default rollback.", enum: []string{OnTimeoutRollback, OnTimeoutPause}, def: OnTimeoutRollback},
	"Step.pause":         {desc: "How long gates are watched after the step settles. Default 0."},
	"Step.gates":         {desc: "Names of the gates watched during this step. Default: all."},

	"Gate.name":                       {desc: "Gate name, unique in the plan.", pattern: `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`},
	"Gate.interval":                   {desc: "How often the gate is evaluated. Default 30s.", def: "30s"},
	"Gate.for":                        {desc: "How long a breach must persist before it counts. Default 0."},
	"Gate.on_failure":                 {desc: "What a breach does. Default rollback.", enum: []string{string(OnFailureRollback), string(OnFailurePause)}, def: string(OnFailureRollback)},
	"Gate.inconclusive_limit":         {desc: "Inconclusive measurements in a row tolerated (no data is never a pass); the next pauses the run. Default 0.", min: num(0), def: 0},
	"Gate.dry_run":                    {desc: "Record the gate's verdicts without acting on them. Default false.", def: false},
	"Gate.cloudwatch":                 {desc: "A CloudWatch metric gate."},
	"Gate.probe":                      {desc: "An HTTP probe gate."},
	"Gate.drain":                      {desc: "A drain gate: passes once the old edge stays quiet for a window; runs wait on it before done and before the hold ends."},
	"DrainGate.cloudwatch":            {desc: "The old edge's CloudWatch request metric."},
	"DrainGate.prometheus":            {desc: "A Prometheus instant query returning the old edge's rate."},
	"DrainGate.threshold":             {desc: "Highest rate that counts as drained (requests per minute for CloudWatch). Default 0.", min: num(0)},
	"DrainGate.fraction":              {desc: "Threshold as a share of the rate when the wait starts (0 < fraction < 1).", min: num(0), max: num(1)},
	"DrainGate.window":                {desc: "How long the rate must stay under the threshold. Default 15m.", def: "15m"},
	"DrainGate.timeout":               {desc: "Bound on the wait before policy applies. Default: none."},
	"DrainGate.policy":                {desc: "What happens after timeout: wait (default), pause or rollback.", enum: []string{"wait", "pause", "rollback"}},
	"DrainCloudWatch.region":          {desc: "Region of the metric. Default us-east-1."},
	"DrainCloudWatch.role_arn":        {desc: "IAM role assumed to read the metric."},
	"DrainCloudWatch.distribution_id": {desc: "CloudFront distribution whose Requests are watched."},
	"DrainCloudWatch.load_balancer":   {desc: "Load balancer (app/<name>/<id> or ARN) whose RequestCount is watched."},
	"DrainCloudWatch.period":          {desc: "Seconds per datapoint, a multiple of 60. Default 60."},
	"DrainPrometheus.url":             {desc: "Prometheus base URL."},
	"DrainPrometheus.query":           {desc: "Instant query returning one number: the old edge's rate."},

	"CloudWatchGate.region":     {desc: "Region of the metric; CloudFront metrics live in us-east-1. Default: the AWS configuration's region."},
	"CloudWatchGate.role_arn":   {desc: "IAM role assumed to read the metric."},
	"CloudWatchGate.metric":     {desc: "A single metric."},
	"CloudWatchGate.expression": {desc: "Metric math over `metrics`, like 100*errors/requests."},
	"CloudWatchGate.metrics":    {desc: "Inputs of the expression, by id (lower-case first letter, then letters, digits, underscores)."},
	"CloudWatchGate.threshold":  {desc: "Value compared against."},
	"CloudWatchGate.comparison": {desc: "What counts as a breach. Default >.", enum: Comparisons, def: ">"},
	"CloudWatchGate.missing":    {desc: "Treatment of a period without data: zero (ALB counters are absent when 0), breach, or ignore (inconclusive, tolerated up to inconclusive_limit). Default zero.", enum: []string{string(MissingZero), string(MissingBreach), string(MissingIgnore)}, def: string(MissingZero)},

	"Metric.namespace":  {desc: "Metric namespace, like AWS/ApplicationELB."},
	"Metric.name":       {desc: "Metric name, like HTTPCode_Target_5XX_Count."},
	"Metric.dimensions": {desc: "Dimensions selecting the series."},
	"Metric.stat":       {desc: "Sum, Average, Minimum, Maximum, SampleCount or a percentile like p99."},
	"Metric.period":     {desc: "Period in seconds: a multiple of 60, or 1, 5, 10, 20, 30. Default 60.", min: num(1), def: 60},
	"Metric.unit":       {desc: "Restrict datapoints to this unit."},

	"ProbeGate.url":           {desc: "http(s) URL to fetch; its host is sent as Host and SNI."},
	"ProbeGate.expect_status": {desc: "Acceptable status codes. Default [200]."},
	"ProbeGate.body_contains": {desc: "Text the body must contain."},
	"ProbeGate.header":        {desc: "Response headers that must have these values."},
	"ProbeGate.timeout":       {desc: "Timeout of one request. Default 5s.", def: "5s"},

	"Verify.path":      {desc: "Path fetched through each edge. Default /.", def: "/"},
	"Verify.expect":    {desc: "Marker of each side."},
	"Verify.header":    {desc: "Read the marker from this response header instead of the body."},
	"Verify.samples":   {desc: "Requests per resolver and edge. Default 5.", min: num(1), def: 5},
	"Verify.resolvers": {desc: "Extra resolvers, IP[:port]."},
	"Verify.hostnames": {desc: "With hostnames: how many of them each verify step checks, spread evenly; at least their number checks all. Default 20.", min: num(1), def: 20},

	"Expect.old": {desc: "Marker of the old edge."},
	"Expect.new": {desc: "Marker of the new edge."},

	"AliasMove.mode":    {desc: "associate (AssociateAlias with the _<hostname> TXT proof) or wait-for-swap. Default associate.", enum: AliasMoveModes, def: "associate"},
	"AliasMove.timeout": {desc: "Bound on the wait for the move. Default 2h.", def: "2h"},
	"AliasMove.poll":    {desc: "How often aliases are read while waiting. Default 5s.", def: "5s"},
	"AliasMove.settle":  {desc: "Wait after both distributions are Deployed; either may still answer for minutes. Default 3m.", def: "3m"},

	"Bridge.endpoint":     {desc: "DNS name of the host-rewriting bridge."},
	"Bridge.rewrite_host": {desc: "Host the bridge sends to the new distribution (one of its aliases)."},
	"Bridge.steps":        {desc: "Phase 1 weights for the bridge, in percent. Default 1, 10, 50, 90, 100."},

	"Staging.weight":     {desc: "Shorthand for one step: share of viewers for staging, at most 0.15.", min: num(0), exclMin: true, max: num(MaxStagingWeight)},
	"Staging.pause":      {desc: "Pause that goes with weight. Default 10m.", def: "10m"},
	"Staging.header":     {desc: "Route only requests with this header to staging (before any weight step)."},
	"Staging.stickiness": {desc: "Keep a viewer on the side it first reached."},
	"Staging.steps":      {desc: "Increasing staging weights, each at most 0.15."},

	"StagingHeader.name":  {desc: "Header name; must start with aws-cf-cd-.", pattern: "^aws-cf-cd-"},
	"StagingHeader.value": {desc: "Exact header value."},

	"Stickiness.idle": {desc: "Idle session TTL, 5m-1h. Default 5m.", def: "5m"},
	"Stickiness.max":  {desc: "Maximum session TTL, 5m-1h, at least idle. Default 30m.", def: "30m"},

	"StagingStep.weight": {desc: "Share of viewers for staging.", min: num(0), exclMin: true, max: num(MaxStagingWeight)},
	"StagingStep.pause":  {desc: "How long gates are watched. Default 0."},
	"StagingStep.gates":  {desc: "Names of the gates watched during this step. Default: all."},
}

// Schema returns a JSON Schema (draft 2020-12) for plan files, generated by
// walking the same model types the decoder walks.
func Schema() []byte {
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeOf(Plan{}))
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "cutover plan"
	root["description"] = "One cutover: move a hostname's traffic from one edge to another through DNS."
	root["$defs"] = g.defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <, > and & readable in descriptions and enums
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic(err) // only maps, strings and numbers: cannot fail
	}
	return buf.Bytes()
}

type schemaGen struct{ defs map[string]any }

var (
	durationType = reflect.TypeOf(Duration(0))
	edgeType     = reflect.TypeOf(Edge{})
)

func (g *schemaGen) typeSchema(t reflect.Type) map[string]any {
	switch {
	case t == durationType:
		return map[string]any{"type": "string", "pattern": durationPattern,
			"description": "A duration in Go syntax plus d for days: 90s, 5m, 1h30m, 3d."}
	case t == edgeType:
		g.edge()
		return map[string]any{"$ref": "#/$defs/Edge"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = true // placeholder against recursion
			g.defs[t.Name()] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + t.Name()}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	}
	panic("plan: no schema for " + t.String())
}

// object describes a model struct: its YAML fields, nothing else.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fieldsOf(t) {
		s := g.typeSchema(t.Field(f.index).Type)
		applyMeta(s, fieldDocs[t.Name()+"."+f.name])
		props[f.name] = s
		if f.required && f.unless == "" {
			required = append(required, f.name)
		}
	}
	obj := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		obj["required"] = required
	}
	switch t.Name() {
	case "Gate":
		obj["oneOf"] = oneOfRequired("cloudwatch", "probe", "drain")
	case "CloudWatchGate":
		obj["oneOf"] = oneOfRequired("metric", "expression")
	case "TSIG":
		obj["oneOf"] = oneOfRequired("secret_file", "secret_env")
	case "Step":
		obj["oneOf"] = oneOfRequired("weight", "approve")
	case "Notification":
		obj["oneOf"] = oneOfRequired("url", "url_env")
	case "HostSelector":
		obj["oneOf"] = oneOfRequired("match", "names", "file")
	case "Plan":
		// hostname and zone are required unless hostnames replaces them.
		obj["oneOf"] = []any{
			map[string]any{"required": []string{"hostname", "zone"}},
			map[string]any{"required": []string{"hostnames"}, "not": map[string]any{"required": []string{"hostname"}}},
		}
	}
	return obj
}

func (g *schemaGen) edge() {
	if _, ok := g.defs["Edge"]; ok {
		return
	}
	props := map[string]any{}
	for _, k := range edgeKeys {
		s := map[string]any{"type": "string"}
		if k == "role_chain" {
			s = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		}
		applyMeta(s, fieldDocs["Edge."+k])
		props[k] = s
	}
	g.defs["Edge"] = map[string]any{
		"type":                 "object",
		"description":          "Where a hostname can point: exactly one of cloudfront, alb or endpoint.",
		"properties":           props,
		"additionalProperties": false,
		"oneOf":                oneOfRequired("cloudfront", "alb", "endpoint"),
	}
}

func oneOfRequired(keys ...string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{"required": []string{k}}
	}
	return out
}

func applyMeta(s map[string]any, m fieldMeta) {
	if m.desc != "" {
		s["description"] = m.desc
	}
	if len(m.enum) > 0 {
		s["enum"] = m.enum
	}
	if m.pattern != "" {
		s["pattern"] = m.pattern
	}
	switch {
	case m.min != nil && m.exclMin:
		s["exclusiveMinimum"] = *m.min
	case m.min != nil:
		s["minimum"] = *m.min
	}
	if m.max != nil {
		s["maximum"] = *m.max
	}
	if m.def != nil {
		s["default"] = m.def
	}
}
