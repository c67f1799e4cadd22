// Package wait holds the two waits every package's tests need: poll a
// condition until it holds, and receive from a channel, each failing the
// test with what it waited for after a deadline the caller chooses. It
// imports nothing of the project, so that any package's own tests, even
// libs at the bottom of the tree, can use it.
//
// It is test-only (testonly in Bazel).
package wait
