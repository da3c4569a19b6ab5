package bhttp

// decoder reads one message from b. Every read checks its length against
// len(b) before slicing, so no input makes it panic or allocate more than the
// input holds.
//
// Field lines are decoded in two steps so that a message costs one string
// allocation per run of sections, not two per line: fieldSection checks the
// lines and records where each name and value lies in the input (spans);
// once a run ends, the caller copies the bytes of the whole run into one
// string and fields points every [Field] into it.
type decoder struct {
	b          []byte
	size       int // length of the whole input: d.b starts at offset size-len(b)
	fieldLines int // lines decoded so far, checked against MaxFieldLines

	// The spans recorded and not yet turned into fields: the first
	// stackSpans in an array inside the decoder (on the caller's stack), the
	// rest in overflow.
	inline   [stackSpans]fieldSpan
	overflow []fieldSpan
	nspans   int
	used     int // spans already turned into fields
}

// span locates bytes [start, end) of the input.
type span struct{ start, end int }

// fieldSpan locates the name and value of one decoded field line.
type fieldSpan struct{ name, value span }

// stackSpans is the number of field lines a message may have before the
// decoder's span list needs the heap.
const stackSpans = 32

// addSpan records the span of one field line.
func (d *decoder) addSpan(s fieldSpan) {
	if d.nspans < stackSpans {
		d.inline[d.nspans] = s
	} else {
		d.overflow = append(d.overflow, s)
	}
	d.nspans++
}

// span returns the i-th recorded span.
func (d *decoder) span(i int) fieldSpan {
	if i < stackSpans {
		return d.inline[i]
	}
	return d.overflow[i-stackSpans]
}

// offset is the position of the next unread byte in the input.
func (d *decoder) offset() int { return d.size - len(d.b) }

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

// fieldLine reads the rest of a field line whose name length is nameLen,
// checks it and records its span.
func (d *decoder) fieldLine(nameLen uint64) error {
	d.fieldLines++
	if d.fieldLines > MaxFieldLines {
		return invalidf("more than %d field lines", MaxFieldLines)
	}
	if nameLen == 0 {
		return invalidf("empty field name")
	}
	nameStart := d.offset()
	name, err := d.take(nameLen, "field name")
	if err != nil {
		return err
	}
	value, err := d.prefixed("field value")
	if err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	if err := checkValue(value); err != nil {
		return err
	}
	valueEnd := d.offset()
	d.addSpan(fieldSpan{
		name:  span{nameStart, nameStart + len(name)},
		value: span{valueEnd - len(value), valueEnd},
	})
	return nil
}

// fieldSection reads a known-length (RFC 9292 §3.1) or indeterminate-length
// (§3.2) field section, records the span of every line and returns how many
// lines it had; fields then gives them their strings.
func (d *decoder) fieldSection(indeterminate bool) (int, error) {
	before := d.nspans
	if indeterminate {
		for {
			nameLen, err := d.varint("field name length")
			if err != nil {
				return 0, err
			}
			if nameLen == 0 {
				return d.nspans - before, nil
			}
			if err := d.fieldLine(nameLen); err != nil {
				return 0, err
			}
		}
	}
	n, size, ok := readVarint(d.b)
	if !ok {
		return 0, invalidf("truncated field section length")
	}
	d.b = d.b[size:]
	if n > uint64(len(d.b)) {
		return 0, invalidf("field section length %d exceeds the %d remaining bytes", n, len(d.b))
	}
	// Decode the section in place, with d.b cut at its end, so spans keep
	// their offsets in the whole input.
	rest := d.b[n:]
	d.b = d.b[:n]
	d.size -= len(rest)
	for !d.done() {
		nameLen, err := d.varint("field name length")
		if err != nil {
			return 0, err
		}
		if err := d.fieldLine(nameLen); err != nil {
			return 0, err
		}
	}
	d.b = rest
	d.size += len(rest)
	return d.nspans - before, nil
}

// fields returns dst, resized to n (reusing its capacity when it can), with
// the next n recorded spans as its fields: s holds the input from offset
// base on. Once every span is used the list is empty again.
func (d *decoder) fields(dst []Field, n int, s string, base int) []Field {
	if n == 0 {
		return dst[:0]
	}
	if cap(dst) < n {
		dst = make([]Field, n)
	}
	dst = dst[:n]
	for i := range dst {
		sp := d.span(d.used + i)
		dst[i] = Field{
			Name:  s[sp.name.start-base : sp.name.end-base],
			Value: s[sp.value.start-base : sp.value.end-base],
		}
	}
	if d.used += n; d.used == d.nspans {
		d.overflow, d.nspans, d.used = d.overflow[:0], 0, 0
	}
	return dst
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

// rest reads what follows the header section: content, trailer section and
// padding, each of which may be truncated away (RFC 9292 §3.8). The trailer
// fields get one string of their own and reuse trailer's capacity.
func (d *decoder) rest(b []byte, trailer []Field, indeterminate bool) (content []byte, _ []Field, padding int, err error) {
	trailer = trailer[:0]
	if d.done() {
		return nil, trailer, 0, nil
	}
	if content, err = d.content(indeterminate); err != nil {
		return nil, nil, 0, err
	}
	if d.done() {
		return content, trailer, 0, nil
	}
	start := d.offset()
	n, err := d.fieldSection(indeterminate)
	if err != nil {
		return nil, nil, 0, err
	}
	if n > 0 {
		trailer = d.fields(trailer, n, string(b[start:d.offset()]), start)
	}
	if padding, err = d.padding(); err != nil {
		return nil, nil, 0, err
	}
	return content, trailer, padding, nil
}

// ParseRequest decodes a binary HTTP request in either framing. Content may
// alias b. Errors wrap [ErrInvalid].
func ParseRequest(b []byte) (*Request, error) {
	r := new(Request)
	if err := r.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return r, nil
}

// UnmarshalBinary decodes a binary HTTP request in either framing into r,
// replacing its contents but reusing the capacity of r.Header and r.Trailer,
// so that a caller decoding many requests can keep one Request. Content may
// alias b. The control data and header fields share one string allocation,
// the trailer fields another (none when there are none). On error r is left
// in an unspecified state. Errors wrap [ErrInvalid].
func (r *Request) UnmarshalBinary(b []byte) error {
	d := decoder{b: b, size: len(b)}
	fi, err := d.varint("framing indicator")
	if err != nil {
		return err
	}
	*r = Request{Header: r.Header[:0], Trailer: r.Trailer[:0]}
	switch fi {
	case framingKnownRequest:
	case framingIndeterminateRequest:
		r.Indeterminate = true
	default:
		return invalidf("framing indicator %d is not a request", fi)
	}
	start := d.offset()
	var control [4]span
	var raw [4][]byte
	for i, what := range [...]string{"method", "scheme", "authority", "path"} {
		if raw[i], err = d.prefixed(what); err != nil {
			return err
		}
		end := d.offset()
		control[i] = span{end - len(raw[i]), end}
	}
	if err := checkControl(raw[0], raw[1], raw[2], raw[3]); err != nil {
		return err
	}
	n := 0
	if !d.done() {
		if n, err = d.fieldSection(r.Indeterminate); err != nil {
			return err
		}
	}
	head := string(b[start:d.offset()])
	for i, dst := range [...]*string{&r.Method, &r.Scheme, &r.Authority, &r.Path} {
		*dst = head[control[i].start-start : control[i].end-start]
	}
	r.Header = d.fields(r.Header, n, head, start)
	r.Content, r.Trailer, r.Padding, err = d.rest(b, r.Trailer, r.Indeterminate)
	return err
}

// ParseResponse decodes a binary HTTP response in either framing, with any
// informational responses. Content may alias b. The header fields of the
// informational and final responses share one string allocation, the
// trailer fields another. Errors wrap [ErrInvalid].
func ParseResponse(b []byte) (*Response, error) {
	d := decoder{b: b, size: len(b)}
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
	start := d.offset()
	var counts [MaxInformational]int // field lines of each informational response
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
		n, err := d.fieldSection(r.Indeterminate)
		if err != nil {
			return nil, err
		}
		counts[len(r.Informational)] = n
		r.Informational = append(r.Informational, Informational{Status: int(status)})
	}
	n := 0
	if !d.done() {
		if n, err = d.fieldSection(r.Indeterminate); err != nil {
			return nil, err
		}
	}
	head := string(b[start:d.offset()])
	for i := range r.Informational {
		r.Informational[i].Header = d.fields(nil, counts[i], head, start)
	}
	r.Header = d.fields(nil, n, head, start)
	if r.Content, r.Trailer, r.Padding, err = d.rest(b, nil, r.Indeterminate); err != nil {
		return nil, err
	}
	return r, nil
}
