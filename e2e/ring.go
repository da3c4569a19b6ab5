package e2e

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Ring is a consistent-hash ring over replica addresses, the scheme of
// NGINX's `hash $http_user_identifier consistent` (ketama) and Envoy's
// ring_hash: every address owns ringPoints points on a 64-bit circle and a
// key goes to the owner of the first point at or after the key's hash. A
// replica joining or leaving moves only the keys on its own arcs, about
// 1/N of them.
//
// The key is the device's random User-Identifier and nothing else: it
// names no person and no network address, and the route reveals nothing
// the identifier does not.
type Ring struct {
	points []uint64
	owner  map[uint64]string
}

// ringPoints is the number of points per address (NGINX uses 160 per
// unit of weight).
const ringPoints = 160

// NewRing builds the ring of addrs (at least one).
func NewRing(addrs []string) *Ring {
	r := &Ring{owner: make(map[uint64]string, len(addrs)*ringPoints)}
	for _, a := range addrs {
		for i := range ringPoints {
			p := ringHash(a + "-" + strconv.Itoa(i))
			if _, taken := r.owner[p]; taken {
				continue
			}
			r.owner[p] = a
			r.points = append(r.points, p)
		}
	}
	slices.Sort(r.points)
	return r
}

// Pick returns the address owning key.
func (r *Ring) Pick(key string) string {
	h := ringHash(key)
	i, _ := slices.BinarySearch(r.points, h)
	if i == len(r.points) {
		i = 0
	}
	return r.owner[r.points[i]]
}

func ringHash(s string) uint64 {
	d := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(d[:8])
}

// ringCache keeps the ring of the last set of running replicas, rebuilt
// when the set changes.
type ringCache struct {
	mu   sync.Mutex
	key  string
	ring *Ring
}

func (c *ringCache) get(addrs []string) *Ring {
	k := strings.Join(addrs, ",")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ring == nil || c.key != k {
		c.key, c.ring = k, NewRing(addrs)
	}
	return c.ring
}
