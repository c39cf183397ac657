package conformance

import "testing"

// route53Differences are the ways moto departs from Route 53. Lab is what
// AWS answers, per the cited section of the AWS behaviour reference.
var route53Differences = []difference{
	{
		Step: "r53/zone-with-delegation-set",
		Ref:  "[U] Route 53 returns prefixed ids (A1 Ids: /hostedzone/Z…, /change/C…); delegation sets as /delegationset/N… the same way (API reference examples; not checked against a live account)",
		Why:  "moto returns the delegation set id bare",
		Lab:  `{"sameServers":true,"servers":4,"setIdPrefix":true}`,
		Moto: `{"sameServers":true,"servers":4,"setIdPrefix":false}`,
	},
	{
		Step: "r53/delete-delegation-set-in-use",
		Ref:  "Route 53 API DeleteReusableDelegationSet: only a set not associated with any hosted zone can be deleted; error DelegationSetInUse (BC-route53)",
		Why:  "moto deletes a delegation set that a zone still uses",
		Lab:  `{"error":"DelegationSetInUse","status":400,"message":""}`,
		Moto: `{"status":"deleted"}`,
	},
	{
		Step: "r53/default-records",
		Ref:  "A5 Default zone records: SOA `<ns> awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`",
		Why:  "moto's SOA names hostmaster.example.com. and is rendered as a Python dict",
		Lab:  `{"sets":[{"name":"example.com.","type":"NS","ttl":172800,"values":["ns#1","ns#2","ns#3","ns#4"]},{"name":"example.com.","type":"SOA","ttl":900,"values":["ns#1 awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"]}],"truncated":false,"max":300}`,
		Moto: `{"sets":[{"name":"example.com.","type":"NS","ttl":172800,"values":["ns#1","ns#2","ns#3","ns#4"]},{"name":"example.com.","type":"SOA","ttl":900,"values":["{'Value': 'ns-2048.awsdns-64.com. hostmaster.example.com. 1 7200 900 1209600 86400'}"]}],"truncated":false,"max":300}`,
	},
	{
		Step: "r53/alias-record",
		Ref:  "A1 Listing: names are FQDNs with a trailing dot; alias sets have no TTL",
		Why:  "moto lists an alias with TTL 0 and its target as sent, without the final dot",
		Lab:  `{"sets":[{"name":"cdn.example.com.","type":"A","alias":{"Zone":"Z2FDTNDATAQYW2","DNSName":"d111111abcdef8.cloudfront.net.","Evaluate":false}}],"truncated":true,"max":1,"nextName":"www.example.com.","nextType":"A"}`,
		Moto: `{"sets":[{"name":"cdn.example.com.","type":"A","ttl":0,"alias":{"Zone":"Z2FDTNDATAQYW2","DNSName":"d111111abcdef8.cloudfront.net","Evaluate":false}}],"truncated":true,"max":1,"nextName":"www.example.com.","nextType":"A"}`,
	},
	{
		Step: "r53/list-paginated-identifiers",
		Ref:  "A1 ListResourceRecordSets: NextRecordName/Type/Identifier when truncated",
		Why:  "moto never returns NextRecordIdentifier",
		Lab:  `["","blue","","",""]`,
		Moto: `["","","","",""]`,
	},
	{
		Step: "r53/list-from-identifier",
		Ref:  "A1 ListResourceRecordSets: ?name=&type=&identifier=",
		Why:  "moto ignores StartRecordIdentifier and restarts at the first set of the name and type",
		Lab:  `{"sets":[{"name":"api.example.com.","type":"A","set":"green","weight":0,"ttl":60,"values":["192.0.2.20"]}],"truncated":true,"max":1,"nextName":"blog.example.com.","nextType":"CNAME"}`,
		Moto: `{"sets":[{"name":"api.example.com.","type":"A","set":"blue","weight":100,"ttl":60,"values":["192.0.2.10"]}],"truncated":true,"max":1,"nextName":"api.example.com.","nextType":"A"}`,
	},
	{
		Step: "r53/upsert-comment",
		Ref:  "A1 ChangeResourceRecordSets: response ChangeInfo{Id, Status, SubmittedAt, Comment}",
		Why:  "moto drops the batch comment from ChangeInfo",
		Lab:  `{"accepted":true,"comment":"lower the ttl"}`,
		Moto: `{"accepted":true}`,
	},
	{
		Step: "r53/get-change",
		Ref:  "A1 GetChange: PENDING or INSYNC for the change asked about",
		Why:  "moto answers GetChange with INSYNC under an id of its own, whatever change is asked about",
		Lab:  `{"sameID":"true","status":"INSYNC"}`,
		Moto: `{"sameID":"false","status":"INSYNC"}`,
	},
	{
		Step: "r53/change-status-at-submit",
		Ref:  "A1 ChangeResourceRecordSets: response Status PENDING",
		Why:  "moto reports every change INSYNC as it is submitted",
		Lab:  `["PENDING","PENDING","PENDING","PENDING"]`,
		Moto: `["INSYNC","INSYNC","INSYNC","INSYNC"]`,
	},
	{
		Step: "r53/change-ids",
		Ref:  "A1 Ids: /change/C… per submitted change",
		Why:  "moto reuses one change id for every record batch",
		Lab:  `{"changes":4,"distinctIDs":4}`,
		Moto: `{"changes":4,"distinctIDs":2}`,
	},
	{
		Step: "r53/get-change-unknown",
		Ref:  "A1 GetChange: unknown id gives NoSuchChange (404)",
		Why:  "moto reports INSYNC at once for any change id",
		Lab:  `{"error":"NoSuchChange","status":404,"message":"A change with the specified change ID does not exist: C0000000000000000000"}`,
		Moto: `{"status":"answered"}`,
	},
	{
		Step: "r53/create-duplicate",
		Ref:  "A3 Errors: for InvalidChangeBatch the Message is `[msg1, msg2]`",
		Why:  "moto sends the InvalidChangeBatch message without the list brackets",
		Lab:  `{"error":"InvalidChangeBatch","status":400,"message":"[Tried to create resource record set [name='cdn.example.com.', type='A'] but it already exists]"}`,
		Moto: `{"error":"InvalidChangeBatch","status":400,"message":"Tried to create resource record set [name='cdn.example.com.', type='A'] but it already exists"}`,
	},
	{
		Step: "r53/create-existing",
		Ref:  "A2 CREATE: fails if the key (name, type, SetIdentifier) exists",
		Why:  "moto refuses a CREATE only when an identical CREATE is in its change history",
		Lab:  `{"error":"InvalidChangeBatch","status":400,"message":"[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists]"}`,
		Moto: `{"accepted":true}`,
	},
	{
		Step: "r53/delete-missing",
		Ref:  "A3 InvalidChangeBatch: Tried to delete resource record set […] but it was not found",
		Why:  "moto refuses a DELETE it has no history for with InvalidInput and the alias/TTL message",
		Lab:  `{"error":"InvalidChangeBatch","status":400,"message":"[Tried to delete resource record set [name='nothere.example.com.', type='A'] but it was not found]"}`,
		Moto: `{"error":"InvalidInput","status":400,"message":"Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=DELETE, Name=nothere.example.com, Type=A, SetIdentifier=null]"}`,
	},
	{
		Step: "r53/weighted-ttl-mismatch",
		Ref:  "A2 Weighted: all sets of a weighted group must have the same TTL — enforced",
		Why:  "moto accepts weighted sets with different TTLs",
		Lab:  `{"error":"InvalidChangeBatch","status":400,"message":"[RRSet with DNS name api.example.com. and type A, SetIdentifier blue cannot be created as weighted sets must contain the same TTL.]"}`,
		Moto: `{"accepted":true}`,
	},
	{
		Step: "r53/cname-at-apex",
		Ref:  "A2 CNAME: not at the apex; A3 `RRSet of type CNAME with DNS name z. is not permitted at apex in zone z.`",
		Why:  "moto accepts a CNAME at the zone apex",
		Lab:  `{"error":"InvalidChangeBatch","status":400,"message":"[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]"}`,
		Moto: `{"accepted":true}`,
	},
	{
		Step: "r53/delete-stale-values",
		Ref:  "A2 DELETE: must equal the stored set exactly",
		Why:  "moto accepts a DELETE that matches any earlier CREATE in its history, not the current set",
		Lab:  `{"error":"InvalidChangeBatch","status":400,"message":"[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"}`,
		Moto: `{"accepted":true}`,
	},
}

func TestRoute53MatchesMoto(t *testing.T) {
	w := startMoto(t)
	w.differ(t, route53Basics, route53Differences)
}
