package blocklist

import (
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// SuffixPolicy says what [Compile] does with a key whose host is a public
// suffix (Public Suffix List, golang.org/x/net/publicsuffix, embedded table).
//
// The device tests every parent domain of a visited host down to two labels
// (client-spec §3.2), so a key co.uk is found for every site under .co.uk
// and github.io for every GitHub Pages site. Lists rarely mean that: such
// keys come from a bare suffix entry, from "www.co.uk" once "www." is
// stripped, or from a hosts file, where "0.0.0.0 github.io" blocked only
// that one name. The policy applies to host keys, with or without a port;
// keys with a path (cloudfront.net/public/ct) are always kept: a rule that
// names a path on a shared host means that path on every site under it.
type SuffixPolicy int

const (
	// DropSuffixes drops keys on ICANN suffixes ("public_suffix": com,
	// co.uk, gov.uk) and on suffixes from the list's private section
	// ("private_suffix": github.io, blogspot.com, duckdns.org). The
	// default: a private suffix is one provider's customers, often
	// thousands of unrelated sites, and a list that means to block them
	// all can say so with KeepPrivateSuffixes.
	DropSuffixes SuffixPolicy = iota
	// KeepPrivateSuffixes drops ICANN suffixes and keeps private ones,
	// reporting them.
	KeepPrivateSuffixes
	// KeepSuffixes keeps every key, reporting those on a public suffix.
	KeepSuffixes
)

var suffixPolicyNames = []string{"drop", "keep-private", "keep"}

// String returns the policy's name as [ParseSuffixPolicy] reads it.
func (p SuffixPolicy) String() string {
	if p >= 0 && int(p) < len(suffixPolicyNames) {
		return suffixPolicyNames[p]
	}
	return fmt.Sprintf("SuffixPolicy(%d)", int(p))
}

// ParseSuffixPolicy reads "drop", "keep-private" or "keep".
func ParseSuffixPolicy(s string) (SuffixPolicy, error) {
	for i, n := range suffixPolicyNames {
		if s == n {
			return SuffixPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("blocklist: public-suffix policy %q: want one of %s", s, strings.Join(suffixPolicyNames, ", "))
}

// SuffixKey is a key whose host is a public suffix, as [Report] lists it.
type SuffixKey struct {
	Key string `json:"key"`
	// Section is "icann" or "private", the Public Suffix List section.
	Section string `json:"section"`
	// Dropped is false when the policy kept the key.
	Dropped bool `json:"dropped"`
}

func (k SuffixKey) String() string {
	verb := "dropped"
	if !k.Dropped {
		verb = "kept"
	}
	return fmt.Sprintf("%s key %s: its host is a public suffix (%s section), so the device would find it for every site under it",
		verb, k.Key, k.Section)
}

// publicSuffixHost returns the host of a normalised key and whether it is a
// public suffix, and then whether the suffix is in the ICANN section. IP
// literals are never suffixes.
func publicSuffixHost(key string) (isSuffix, icann bool) {
	if strings.HasPrefix(key, "[") {
		return false, false
	}
	host := key
	if i := strings.IndexAny(key, ":/?#"); i >= 0 {
		host = key[:i]
	}
	if isIPv4(host) {
		return false, false
	}
	ps, icann := publicsuffix.PublicSuffix(host)
	return ps == host, icann
}

// checkSuffixes applies Options.PublicSuffixes to the blocked host keys
// (with or without a port). Keys with a path or query on a public suffix
// (cloudfront.net/public/ct, pages.dev/fullscreen.js) are kept whatever
// the policy and counted in Report.SuffixPathKeys: they block exactly what
// the rule says, that path on every site under the suffix. The
// lookups run on all cores (about 0.15 µs a key); the report and removals
// follow in key order.
func (c *compiler) checkSuffixes(blocked *keySet) {
	for _, ev := range c.suffixEvents(blocked, nil) {
		c.reportSuffix(ev)
	}
}

// suffixEvent is one key whose host is a public suffix: its key, whether
// it has a path, its section, whether the policy dropped it, and its
// insertion sequence (the order the report lists them in).
type suffixEvent struct {
	seq     uint64
	key     string
	path    bool
	icann   bool
	dropped bool
}

// suffixEvents finds the keys of blocked whose host is a public suffix,
// blanks those the policy drops, and returns them in insertion order; seq
// gives each key's insertion sequence (nil: its index).
func (c *compiler) suffixEvents(blocked *keySet, seq []uint64) []suffixEvent {
	keys := blocked.keys
	hits := parallelIndexes(keys, func(k string) bool {
		ok, _ := publicSuffixHost(k)
		return ok
	})
	evs := make([]suffixEvent, 0, len(hits))
	for _, i := range hits {
		k := keys[i]
		ev := suffixEvent{seq: uint64(i), key: k}
		if seq != nil {
			ev.seq = seq[i]
		}
		if strings.IndexAny(k, "/?") >= 0 {
			ev.path = true
			evs = append(evs, ev)
			continue
		}
		_, ev.icann = publicSuffixHost(k)
		switch c.opts.PublicSuffixes {
		case DropSuffixes:
			ev.dropped = true
		case KeepPrivateSuffixes:
			ev.dropped = ev.icann
		}
		if ev.dropped {
			keys[i] = ""
		}
		evs = append(evs, ev)
	}
	return evs
}

// reportSuffix counts a key whose host is a public suffix.
func (c *compiler) reportSuffix(ev suffixEvent) {
	if ev.path {
		c.rep.SuffixPathKeys++ // that path on every site under the suffix, as the rule says
		return
	}
	sk := SuffixKey{Key: ev.key, Section: "private", Dropped: ev.dropped}
	reason := "private_suffix"
	if ev.icann {
		sk.Section, reason = "icann", "public_suffix"
	}
	if sk.Dropped {
		c.dropped(reason, 1)
		c.example(reason, ev.key)
	} else {
		c.rep.SuffixKeysKept++
	}
	c.rep.SuffixKeyCount++
	if len(c.rep.SuffixKeys) < maxConflicts {
		c.rep.SuffixKeys = append(c.rep.SuffixKeys, sk)
	}
}
