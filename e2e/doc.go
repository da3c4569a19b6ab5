// Package e2e holds the tests that need the whole system: a device simulator
// talking to real loopback servers through a relay and an OHTTP gateway, two
// service replicas sharing a real Redis, load and fault injection, and
// structural checks of the deployment files under deploy/.
//
// It has no API of its own; everything lives in its _test.go files. The
// default `go test ./e2e` run takes seconds. Longer load and fault runs are
// enabled by environment variables:
//
//	BLINDLIST_E2E_LOAD=30s go test ./e2e -run Load -v   # sustained load for 30 s
//
// Results of the long runs are recorded in BENCHMARKS.md.
package e2e
