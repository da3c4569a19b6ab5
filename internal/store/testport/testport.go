// Package testport picks loopback ports for the servers tests start and
// may kill and start again on the same port (redistest, s3test).
//
// A port the kernel hands out for port 0 lies in its ephemeral range, the
// same range it takes the local ends of outgoing connections from. Once
// such a server is killed, any process's next connection may take the
// port, and the restart cannot bind it (seen in CI: SeaweedFS exiting on
// restart while other packages' tests ran). The ports here come from below
// that range, where the kernel never picks on its own.
package testport

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the first port Free considers.
const lowest = 10000

// Free returns a loopback TCP port that was free a moment ago, chosen at
// random between 10000 and the kernel's ephemeral range (EphemeralLow),
// and not in taken.
func Free(taken ...int) (int, error) {
	hi := EphemeralLow()
	for range 200 {
		p := lowest + rand.IntN(hi-lowest)
		if !contains(taken, p) && Available(p) {
			return p, nil
		}
	}
	return 0, errors.New("testport: no free port below the ephemeral range")
}

// EphemeralLow returns the lowest port the kernel gives outgoing
// connections (Linux: /proc/sys/net/ipv4/ip_local_port_range), else the
// IANA dynamic range's start, 49152; never below 20000.
func EphemeralLow() int {
	lo := 49152
	if raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(raw)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				lo = v
			}
		}
	}
	return max(lo, 20000)
}

func contains(ps []int, p int) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// Available reports whether a loopback TCP listener could bind port just
// now.
func Available(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
