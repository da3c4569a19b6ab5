package testport

import (
	"fmt"
	"net"
	"strconv"
	"testing"
)

func TestFree(t *testing.T) {
	hi := EphemeralLow()
	var taken []int
	for range 8 {
		p, err := Free(taken...)
		if err != nil {
			t.Fatal(err)
		}
		if p < lowest || p >= hi {
			t.Fatalf("port %d outside [%d, %d)", p, lowest, hi)
		}
		for _, q := range taken {
			if q == p {
				t.Fatalf("port %d returned twice", p)
			}
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		defer l.Close()
		taken = append(taken, p)
	}
}

func ExampleFree() {
	p, err := Free()
	fmt.Println(err == nil && p >= 10000 && p < EphemeralLow())
	// Output: true
}
