package store

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/redis/go-redis/v9"
)

// On Redis Cluster a script may only touch keys of one hash slot, so one
// epoch record for the whole set cannot be checked in the same script as
// a spend (CROSSSLOT). The spent keys are spread over spentGroups hash-tag
// groups instead, and every group carries its own copy of the epoch
// record in its slot: "<prefix>#epoch{g}" beside "<prefix>{g}<key>". A
// spend checks its group's copy in the same script, on the master that
// holds both, so a master that lost its data (its slots' records gone)
// refuses the spends of its groups with [ErrEpochChanged], while the
// groups spread the tokens over all masters (256 tags over 16 384 slots).
//
// [ReplicatedSpentSet.Epoch] writes the record into every group (SET NX)
// and, when the groups disagree (a group lost its record and got a newer
// one, or processes raced), raises every group to the newest record, so
// all groups and processes converge on one epoch, the newest: data lost
// on any master begins a new epoch for the whole set.
const spentGroups = 256

// clusterGroupTag returns the hash tag of key's group.
func clusterGroupTag(key []byte) string {
	return fmt.Sprintf("{%02x}", crc32.ChecksumIEEE(key)%spentGroups)
}

// raiseEpochSrc sets KEYS[1] to ARGV[1] unless it holds a record at least as
// new, and returns the record it then holds. Records are
// "<since ns>-<hex>": newer means a longer or larger since, then a larger
// whole string.
const raiseEpochSrc = `
local function since(id)
  local i = string.find(id, '-', 1, true)
  if not i then return '' end
  return string.sub(id, 1, i - 1)
end
local function newer(a, b)
  local sa, sb = since(a), since(b)
  if #sa ~= #sb then return #sa > #sb end
  if sa ~= sb then return sa > sb end
  return a > b
end
local cur = redis.call('GET', KEYS[1])
if (not cur) or newer(ARGV[1], cur) then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return cur
`

// newerEpochID is raiseEpochSrc's order in Go.
func newerEpochID(a, b string) bool {
	sa, _, _ := strings.Cut(a, "-")
	sb, _, _ := strings.Cut(b, "-")
	if len(sa) != len(sb) {
		return len(sa) > len(sb)
	}
	if sa != sb {
		return sa > sb
	}
	return a > b
}

// clusterEpoch implements Epoch on a cluster (see spentGroups).
func (s *ReplicatedSpentSet) clusterEpoch(ctx context.Context, c *redis.ClusterClient, id string) (Epoch, error) {
	records := make([]string, spentGroups)
	for g := range spentGroups {
		records[g] = s.s.epochKey() + fmt.Sprintf("{%02x}", g)
	}
	ids := make([]string, spentGroups)
	cmds := make([]*redis.StringCmd, spentGroups)
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for g, rec := range records {
			p.SetNX(ctx, rec, id, 0)
			cmds[g] = p.Get(ctx, rec)
		}
		return nil
	})
	if err != nil {
		c.ReloadState(ctx)
		return Epoch{}, fmt.Errorf("store: redis cluster epoch: %w: %w", ErrUnavailable, err)
	}
	for g, cmd := range cmds {
		ids[g] = cmd.Val()
	}
	// A few rounds: another process may raise some groups meanwhile.
	for range 4 {
		newest := ids[0]
		same := true
		for _, v := range ids[1:] {
			if v != newest {
				same = false
			}
			if newerEpochID(v, newest) {
				newest = v
			}
		}
		if same {
			return parseEpoch(newest)
		}
		raised := make([]*redis.Cmd, spentGroups)
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for g, rec := range records {
				raised[g] = p.Eval(ctx, raiseEpochSrc, []string{rec}, newest)
			}
			return nil
		})
		if err != nil {
			c.ReloadState(ctx)
			return Epoch{}, fmt.Errorf("store: redis cluster epoch: %w: %w", ErrUnavailable, err)
		}
		for g, cmd := range raised {
			if ids[g], err = cmd.Text(); err != nil {
				return Epoch{}, fmt.Errorf("store: redis cluster epoch: %w: %w", ErrUnavailable, err)
			}
		}
	}
	return Epoch{}, fmt.Errorf("store: redis cluster epoch: groups did not agree on one record: %w", ErrUnavailable)
}

// errPrefixBrace rejects a prefix that would move the hash tag.
var errPrefixBrace = errors.New("store: a Redis Cluster prefix may not hold '{' or '}' (it would change the hash tag)")
