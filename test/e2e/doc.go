// Package e2e holds Weft's end-to-end tests: they build the real binaries
// (TestMain), start weftd processes on free ports with temporary data
// directories, and drive them with weftctl and the Go client as a user
// would. Every process is stopped when its test ends, also on failure.
package e2e
