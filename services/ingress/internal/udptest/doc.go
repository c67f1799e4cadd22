// Package udptest holds test and benchmark helpers for the ingress packages:
// client sockets on the loopback interface (Blaster) and a way to measure how
// fast a receive loop and its handler drain a socket, apart from the cost of
// sending (Drain), in wall time and in the CPU time of the whole process, so
// that a receive path spread over several cores is compared honestly with a
// single loop. It is for tests only (testonly in Bazel).
package udptest
