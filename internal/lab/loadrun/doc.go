// Package loadrun keeps the lab's client load going for as long as the lab
// runs — one bounded load run after another — and prints it as a table:
// one row per second, a column per origin that served, and failures, with
// a summary when it stops.
package loadrun
