package blocklist

import "bytes"

// fastLine returns, appended to names, the keys of a line that the
// general path (format parser, then [Normalize]) would turn into keys with
// nothing to report: every entry is already a canonical host
// ([isCanonicalHost]) and none is hosts boilerplate. For any other line it
// returns nothing and the caller takes the general path, so both paths give
// the same keys and the same report. It covers the bulk of real lists
// (hosts files, domain lists, ||domain^ rules) without allocating; the
// returned slices alias line.
func fastLine(f Format, line []byte, names [][]byte) [][]byte {
	if len(line) == 0 {
		return nil
	}
	hasHash := false
	for _, c := range line {
		switch {
		case c >= 0x80, c == '\r', c == '\v', c == '\f', c == '$', c == '^' && f != FormatABP && f != FormatAuto:
			return nil // Unicode spaces and IDNs, rare separators, modifiers
		case c == '#':
			hasHash = true
		}
	}
	switch f {
	case FormatHosts:
		return fastHosts(line, names)
	case FormatDomains, FormatURLs:
		if hasHash || line[0] == '!' {
			return nil
		}
		return fastSingle(line, names)
	case FormatABP:
		return fastABP(line, names)
	case FormatDnsmasq:
		return fastDnsmasq(line, names)
	case FormatUnbound:
		return fastUnbound(line, names)
	case FormatAuto:
		switch {
		case line[0] == '|':
			return fastABP(line, names)
		case line[0] == 'a' || line[0] == 'l' || line[0] == 's':
			if got := fastDnsmasq(line, names); len(got) > 0 {
				return got
			}
			if got := fastUnbound(line, names); len(got) > 0 {
				return got
			}
		case bytes.IndexByte(line, '^') >= 0:
			return nil
		case hasHash && isABPCosmetic(line):
			return nil
		case line[0] >= '0' && line[0] <= '9':
			if names = fastHosts(line, names); len(names) > 0 {
				return names
			}
		}
		if hasHash {
			return nil
		}
		return fastSingle(line, names)
	}
	return nil
}

// fastHosts accepts "0.0.0.0 name…" and "127.0.0.1 name…" with an optional
// comment, as parseHostsLine reads them.
func fastHosts(line []byte, names [][]byte) [][]byte {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	ip, rest := nextField(line)
	if string(ip) != "0.0.0.0" && string(ip) != "127.0.0.1" {
		return nil
	}
	for {
		var name []byte
		if name, rest = nextField(rest); name == nil {
			return names
		}
		if !isCanonicalHost(name) || hostsBoilerplate[string(name)] {
			return nil
		}
		names = append(names, name)
	}
}

// fastSingle accepts a line that is one canonical host.
func fastSingle(line []byte, names [][]byte) [][]byte {
	if !isCanonicalHost(line) {
		return nil
	}
	return append(names, line)
}

// fastABP accepts "||host^", as parseABPLine reads it.
func fastABP(line []byte, names [][]byte) [][]byte {
	if len(line) < 4 || line[0] != '|' || line[1] != '|' || line[len(line)-1] != '^' {
		return nil
	}
	return fastSingle(line[2:len(line)-1], names)
}

// nextField returns the first run of bytes other than space and tab in s
// and what follows it, or nil when there is none.
func nextField(s []byte) (field, rest []byte) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i == len(s) {
		return nil, nil
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	return s[i:j], s[j:]
}

// fastDnsmasq accepts the blocking rules dnsmasq lists are made of, as
// parseDnsmasqLine reads them: "address=/host/" with no address, "#",
// 0.0.0.0 or ::, and "local=/host/" or "server=/host/".
func fastDnsmasq(line []byte, names [][]byte) [][]byte {
	var rest []byte
	isAddress := false
	switch {
	case bytes.HasPrefix(line, []byte("address=/")):
		rest, isAddress = line[len("address=/"):], true
	case bytes.HasPrefix(line, []byte("local=/")):
		rest = line[len("local=/"):]
	case bytes.HasPrefix(line, []byte("server=/")):
		rest = line[len("server=/"):]
	default:
		return nil
	}
	i := bytes.IndexByte(rest, '/')
	if i < 0 {
		return nil
	}
	switch target := string(rest[i+1:]); {
	case target == "":
	case isAddress && (target == "#" || target == "0.0.0.0" || target == "::"):
	default:
		return nil
	}
	return fastSingle(rest[:i], names)
}

// fastUnbound accepts `local-zone: "host." TYPE` for the blocking zone
// types, as parseUnboundLine reads it.
func fastUnbound(line []byte, names [][]byte) [][]byte {
	rest, ok := bytes.CutPrefix(line, []byte(`local-zone: "`))
	if !ok {
		return nil
	}
	i := bytes.IndexByte(rest, '"')
	if i < 1 || i+1 >= len(rest) || rest[i+1] != ' ' || !unboundBlockingZones[string(rest[i+2:])] {
		return nil
	}
	host := rest[:i]
	if host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	return fastSingle(host, names)
}

// fast accepts "host CNAME ." and "*.host CNAME .", as parse reads them
// while relative names are their own triggers ([rpzParser.plain]); names
// of IP and name-server triggers (rpz-ip, …) take the general path. The
// owner is kept, without allocating, for a following line that omits it.
func (p *rpzParser) fast(line []byte, names [][]byte) [][]byte {
	if !p.plain() {
		return nil
	}
	owner, rest := nextField(line)
	typ, rest := nextField(rest)
	target, rest := nextField(rest)
	if string(typ) != "CNAME" || string(target) != "." || len(bytes.TrimSpace(rest)) != 0 {
		return nil
	}
	host := bytes.TrimPrefix(owner, []byte("*."))
	if bytes.Contains(host, []byte("rpz-")) {
		return nil
	}
	if names = fastSingle(host, names); len(names) > 0 {
		p.owner = append(p.owner[:0], owner...)
	}
	return names
}
