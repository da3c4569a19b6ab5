package bhttp

// fieldSectionLen is the byte length of the field lines of fields, without a
// length prefix or terminator.
func fieldSectionLen(fields []Field) uint64 {
	var n uint64
	for _, f := range fields {
		n += uint64(varintLen(uint64(len(f.Name))) + len(f.Name) + varintLen(uint64(len(f.Value))) + len(f.Value))
	}
	return n
}

func appendPrefixed(b []byte, s string) []byte {
	return append(appendVarint(b, uint64(len(s))), s...)
}

func appendFieldSection(b []byte, fields []Field, indeterminate bool) []byte {
	if !indeterminate {
		b = appendVarint(b, fieldSectionLen(fields))
	}
	for _, f := range fields {
		b = appendPrefixed(appendPrefixed(b, f.Name), f.Value)
	}
	if indeterminate {
		b = append(b, 0)
	}
	return b
}

// appendBody appends header section, content, trailer section and padding.
// Indeterminate content is written as one chunk (none when empty). Nothing is
// truncated, so the output always ends with a trailer section.
func appendBody(b []byte, header []Field, content []byte, trailer []Field, padding int, indeterminate bool) []byte {
	b = appendFieldSection(b, header, indeterminate)
	if !indeterminate || len(content) > 0 {
		b = appendVarint(b, uint64(len(content)))
		b = append(b, content...)
	}
	if indeterminate {
		b = append(b, 0)
	}
	b = appendFieldSection(b, trailer, indeterminate)
	for range padding {
		b = append(b, 0)
	}
	return b
}

func checkBody(header, trailer []Field, padding, otherLines int) error {
	if n := len(header) + len(trailer) + otherLines; n > MaxFieldLines {
		return invalidf("%d field lines, at most %d", n, MaxFieldLines)
	}
	if err := checkFields(header); err != nil {
		return err
	}
	if err := checkFields(trailer); err != nil {
		return err
	}
	if padding < 0 {
		return invalidf("negative padding %d", padding)
	}
	return nil
}

// AppendBinary appends the encoding of r to b, known-length or
// indeterminate-length as r.Indeterminate says. It validates r first with the
// decoder's rules, so its output always parses with [ParseRequest].
func (r *Request) AppendBinary(b []byte) ([]byte, error) {
	if err := checkControl(r.Method, r.Scheme, r.Authority, r.Path); err != nil {
		return nil, err
	}
	if err := checkBody(r.Header, r.Trailer, r.Padding, 0); err != nil {
		return nil, err
	}
	fi := uint64(framingKnownRequest)
	if r.Indeterminate {
		fi = framingIndeterminateRequest
	}
	b = appendVarint(b, fi)
	for _, s := range [...]string{r.Method, r.Scheme, r.Authority, r.Path} {
		b = appendPrefixed(b, s)
	}
	return appendBody(b, r.Header, r.Content, r.Trailer, r.Padding, r.Indeterminate), nil
}

// MarshalBinary returns the encoding of r; see [Request.AppendBinary].
func (r *Request) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// AppendBinary appends the encoding of r to b, known-length or
// indeterminate-length as r.Indeterminate says. It validates r first with the
// decoder's rules, so its output always parses with [ParseResponse].
func (r *Response) AppendBinary(b []byte) ([]byte, error) {
	if len(r.Informational) > MaxInformational {
		return nil, invalidf("%d informational responses, at most %d", len(r.Informational), MaxInformational)
	}
	infoLines := 0
	for _, info := range r.Informational {
		infoLines += len(info.Header)
		if info.Status < 100 || info.Status > 199 {
			return nil, invalidf("informational status %d outside 100..199", info.Status)
		}
		if err := checkFields(info.Header); err != nil {
			return nil, err
		}
	}
	if r.Status < 200 || r.Status > 599 {
		return nil, invalidf("final status %d outside 200..599", r.Status)
	}
	if err := checkBody(r.Header, r.Trailer, r.Padding, infoLines); err != nil {
		return nil, err
	}
	fi := uint64(framingKnownResponse)
	if r.Indeterminate {
		fi = framingIndeterminateResponse
	}
	b = appendVarint(b, fi)
	for _, info := range r.Informational {
		b = appendVarint(b, uint64(info.Status))
		b = appendFieldSection(b, info.Header, r.Indeterminate)
	}
	b = appendVarint(b, uint64(r.Status))
	return appendBody(b, r.Header, r.Content, r.Trailer, r.Padding, r.Indeterminate), nil
}

// MarshalBinary returns the encoding of r; see [Response.AppendBinary].
func (r *Response) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }
