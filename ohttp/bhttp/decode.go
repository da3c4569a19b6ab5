package bhttp

// decoder reads one message from b. Every read checks its length against
// len(b) before slicing, so no input makes it panic or allocate more than the
// input holds.
type decoder struct {
	b          []byte
	fieldLines int // lines decoded so far, checked against MaxFieldLines
}

func (d *decoder) done() bool { return len(d.b) == 0 }

func (d *decoder) varint(what string) (uint64, error) {
	v, n, ok := readVarint(d.b)
	if !ok {
		return 0, invalidf("truncated %s", what)
	}
	d.b = d.b[n:]
	return v, nil
}

// take returns the next n bytes, aliasing the input.
func (d *decoder) take(n uint64, what string) ([]byte, error) {
	if n > uint64(len(d.b)) {
		return nil, invalidf("%s length %d exceeds the %d remaining bytes", what, n, len(d.b))
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s, nil
}

// prefixed reads a varint length and that many bytes.
func (d *decoder) prefixed(what string) ([]byte, error) {
	n, size, ok := readVarint(d.b)
	if !ok {
		return nil, invalidf("truncated %s length", what)
	}
	d.b = d.b[size:]
	return d.take(n, what)
}

// fieldLine reads the rest of a field line whose name length is nameLen.
func (d *decoder) fieldLine(nameLen uint64) (Field, error) {
	d.fieldLines++
	if d.fieldLines > MaxFieldLines {
		return Field{}, invalidf("more than %d field lines", MaxFieldLines)
	}
	if nameLen == 0 {
		return Field{}, invalidf("empty field name")
	}
	name, err := d.take(nameLen, "field name")
	if err != nil {
		return Field{}, err
	}
	value, err := d.prefixed("field value")
	if err != nil {
		return Field{}, err
	}
	f := Field{Name: string(name), Value: string(value)}
	if err := checkName(f.Name); err != nil {
		return Field{}, err
	}
	if err := checkValue(f.Value); err != nil {
		return Field{}, err
	}
	return f, nil
}

// fieldSection reads a known-length (RFC 9292 §3.1) or indeterminate-length
// (§3.2) field section.
func (d *decoder) fieldSection(indeterminate bool) ([]Field, error) {
	var fields []Field
	if indeterminate {
		for {
			nameLen, err := d.varint("field name length")
			if err != nil {
				return nil, err
			}
			if nameLen == 0 {
				return fields, nil
			}
			f, err := d.fieldLine(nameLen)
			if err != nil {
				return nil, err
			}
			fields = append(fields, f)
		}
	}
	section, err := d.prefixed("field section")
	if err != nil {
		return nil, err
	}
	sub := decoder{b: section, fieldLines: d.fieldLines}
	for !sub.done() {
		nameLen, err := sub.varint("field name length")
		if err != nil {
			return nil, err
		}
		f, err := sub.fieldLine(nameLen)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	d.fieldLines = sub.fieldLines
	return fields, nil
}

// content reads known-length content or a sequence of indeterminate-length
// chunks ending in a zero length. One chunk aliases the input; several are
// joined into a new slice no longer than the input.
func (d *decoder) content(indeterminate bool) ([]byte, error) {
	if !indeterminate {
		return d.prefixed("content")
	}
	var content []byte
	joined := false
	for {
		n, err := d.varint("content chunk length")
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return content, nil
		}
		chunk, err := d.take(n, "content chunk")
		if err != nil {
			return nil, err
		}
		switch {
		case content == nil:
			content = chunk
		case !joined:
			content = append(make([]byte, 0, len(content)+len(chunk)+len(d.b)), content...)
			joined = true
			fallthrough
		default:
			content = append(content, chunk...)
		}
	}
}

// padding checks that the rest of the input is zero bytes (RFC 9292 §3.8)
// and returns how many there are.
func (d *decoder) padding() (int, error) {
	for i, c := range d.b {
		if c != 0 {
			return 0, invalidf("non-zero padding byte at offset %d", i)
		}
	}
	n := len(d.b)
	d.b = nil
	return n, nil
}

// body reads what follows the control data: header section, content, trailer
// section and padding, each of which may be truncated away (RFC 9292 §3.8).
func (d *decoder) body(indeterminate bool) (header []Field, content []byte, trailer []Field, padding int, err error) {
	if d.done() {
		return nil, nil, nil, 0, nil
	}
	if header, err = d.fieldSection(indeterminate); err != nil {
		return nil, nil, nil, 0, err
	}
	if d.done() {
		return header, nil, nil, 0, nil
	}
	if content, err = d.content(indeterminate); err != nil {
		return nil, nil, nil, 0, err
	}
	if d.done() {
		return header, content, nil, 0, nil
	}
	if trailer, err = d.fieldSection(indeterminate); err != nil {
		return nil, nil, nil, 0, err
	}
	if padding, err = d.padding(); err != nil {
		return nil, nil, nil, 0, err
	}
	return header, content, trailer, padding, nil
}

// ParseRequest decodes a binary HTTP request in either framing. Content may
// alias b. Errors wrap [ErrInvalid].
func ParseRequest(b []byte) (*Request, error) {
	d := decoder{b: b}
	fi, err := d.varint("framing indicator")
	if err != nil {
		return nil, err
	}
	r := new(Request)
	switch fi {
	case framingKnownRequest:
	case framingIndeterminateRequest:
		r.Indeterminate = true
	default:
		return nil, invalidf("framing indicator %d is not a request", fi)
	}
	var control [4][]byte
	for i, what := range [...]string{"method", "scheme", "authority", "path"} {
		if control[i], err = d.prefixed(what); err != nil {
			return nil, err
		}
	}
	r.Method, r.Scheme, r.Authority, r.Path = string(control[0]), string(control[1]), string(control[2]), string(control[3])
	if err := checkControl(r.Method, r.Scheme, r.Authority, r.Path); err != nil {
		return nil, err
	}
	if r.Header, r.Content, r.Trailer, r.Padding, err = d.body(r.Indeterminate); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseResponse decodes a binary HTTP response in either framing, with any
// informational responses. Content may alias b. Errors wrap [ErrInvalid].
func ParseResponse(b []byte) (*Response, error) {
	d := decoder{b: b}
	fi, err := d.varint("framing indicator")
	if err != nil {
		return nil, err
	}
	r := new(Response)
	switch fi {
	case framingKnownResponse:
	case framingIndeterminateResponse:
		r.Indeterminate = true
	default:
		return nil, invalidf("framing indicator %d is not a response", fi)
	}
	for {
		status, err := d.varint("status code")
		if err != nil {
			return nil, err
		}
		if status >= 200 && status <= 599 {
			r.Status = int(status)
			break
		}
		if status < 100 || status > 199 {
			return nil, invalidf("status code %d outside 100..599", status)
		}
		if len(r.Informational) == MaxInformational {
			return nil, invalidf("more than %d informational responses", MaxInformational)
		}
		header, err := d.fieldSection(r.Indeterminate)
		if err != nil {
			return nil, err
		}
		r.Informational = append(r.Informational, Informational{Status: int(status), Header: header})
	}
	if r.Header, r.Content, r.Trailer, r.Padding, err = d.body(r.Indeterminate); err != nil {
		return nil, err
	}
	return r, nil
}
