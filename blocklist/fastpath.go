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
	case FormatAuto:
		switch {
		case line[0] == '|':
			return fastABP(line, names)
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
