// Package awsconfig builds the aws.Config every AWS adapter is created from.
//
// It starts from the SDK's default chain (environment, shared profiles, SSO,
// instance roles) so cutover behaves like the aws CLI on the same machine,
// and then optionally assumes one or more IAM roles in order. A chain exists
// because a hostname's zone and its edge often live in different accounts:
// the operator's identity assumes a hub role, which in turn assumes the role
// in the account that owns the resource.
//
// Endpoint overrides (AWS_ENDPOINT_URL and the per-service
// AWS_ENDPOINT_URL_<SERVICE> variables) are honoured by the SDK itself while
// loading; this package does not re-implement them, but its tests pin the
// behaviour because the lab and every integration test depend on it.
//
// Nothing here logs: credentials, session tokens and external ids never
// leave the returned config.
package awsconfig
