// Package acm emulates the AWS Certificate Manager calls a cutover depends on:
// requesting a public certificate, reading its status and DNS validation
// records, listing and deleting certificates.
//
// ACM speaks JSON 1.1 (X-Amz-Target: CertificateManager.<Op>). Validation is
// real in the sense that matters to the tool: a DNS-validated certificate
// stays PENDING_VALIDATION until the lab's DNS answers every domain's
// _<hash>.<domain>. CNAME with the expected _<hash>.acm-validations.aws.
// value, and times out after 72 hours (configurable) without it. The check is
// made lazily whenever the certificate is read, against the injected clock,
// so nothing runs in the background.
package acm
