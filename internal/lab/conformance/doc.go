// Package conformance holds differential tests of the lab: each scenario runs
// unchanged through aws-sdk-go-v2 against the lab and against moto_server, an
// emulator written independently of this project, and the parsed answers are
// compared field by field once what legitimately differs (generated ids,
// timestamps, name server names, ETags, distribution domain names, account
// numbers) has been replaced by stable placeholders.
//
// moto is not AWS. Where it is known to depart from AWS, the difference is
// named in one table with the section of the AWS behaviour reference that
// says what AWS does; the test then asserts that the lab answers as AWS does
// and that moto still answers as the table says, so a change in either one
// is noticed. Any other disagreement fails the test.
//
// The package has no non-test code: it exists to keep the lab honest.
package conformance
