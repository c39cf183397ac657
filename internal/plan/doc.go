// Package plan defines the plan file: the YAML document a user writes to
// describe one cutover (which hostname, which zone, from which edge to which,
// by what strategy, in which steps, guarded by which gates).
//
// Loading is strict decode, then defaults, then validation, in that order,
// and every problem found along the way is collected rather than stopping at
// the first one:
//
//   - Parse walks gopkg.in/yaml.v3 nodes instead of unmarshalling into
//     structs, so that every unknown field, wrong type and duplicate key is
//     reported with the file, line and column of the offending node.
//   - Defaults are filled into each block before its fields are decoded, so a
//     value the user wrote explicitly (interval: 0) is never mistaken for an
//     absent one; defaults that depend on other fields (the strategy, the
//     steps) are completed once the whole file is read.
//   - Validate checks the rules that span fields: strategy against edges,
//     step weights, gate references, CloudFront limits.
//
// The result is a *Plan whose nodes each remember their source position
// (Pos), and whose PosOf method finds the position of any field, so the
// packages that compile and run a plan can point back at the line that caused
// a problem. Problems are a Diagnostics value, which is an error.
//
// Schema returns a JSON Schema generated from the same Go types the decoder
// walks, so editors and the decoder agree on the accepted fields.
package plan
