// Package mototest runs moto_server, a third-party AWS emulator, as a real
// wire peer for tests: the SDK talks HTTP to it exactly as it would to AWS.
// Tests use it to check that requests cutover builds are accepted by an
// independent implementation, not only by fakes written alongside the code.
package mototest
