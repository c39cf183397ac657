// Package build turns the gates of a runbook into gate.Gate values, and a
// plan's gates into runbook gates.
//
// A runbook keeps each gate's provider configuration as JSON (so the runbook
// does not depend on gate implementations). That JSON is written from this
// package's spec types rather than from the plan's structs: the plan's
// structs carry source positions and have no JSON names, so their encoding
// would tie a stored runbook to the line numbers of the file it came from.
package build
