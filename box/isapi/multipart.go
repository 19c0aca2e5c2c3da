package isapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"strconv"
	"strings"
)

// DefaultMaxPartSize bounds one alertStream part. Event XML is a few KiB and
// smart-event JPEGs a few hundred; 4 MiB leaves room without letting a hostile
// or broken device exhaust the box's memory.
const DefaultMaxPartSize = 4 << 20

const (
	// maxLineSize bounds a header or boundary line. Longer lines are garbage.
	maxLineSize = 8 << 10
	// maxHeaders bounds the header lines of one part.
	maxHeaders = 64
	// literalBoundary is what older NVRs write whatever the header declared (quirk 1).
	literalBoundary = "boundary"
)

// Part is one part of a multipart alertStream.
type Part struct {
	Header textproto.MIMEHeader
	Body   []byte
}

// MediaType is the part's Content-Type without parameters, lower case, or "".
func (p *Part) MediaType() string {
	ct := p.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// IsXML tells event parts from images: by the declared type, or by sniffing the
// body when the device sent no Content-Type.
func (p *Part) IsXML() bool {
	switch mt := p.MediaType(); {
	case strings.Contains(mt, "xml"):
		return true
	case mt != "" && mt != "text/plain" && mt != "application/octet-stream":
		return false
	}
	b := bytes.TrimLeft(bytes.TrimPrefix(p.Body, utf8BOM), " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

var utf8BOM = []byte("\xef\xbb\xbf")

type readerState int

const (
	stateFindDelim readerState = iota // skip blank lines, expect a delimiter
	stateHeaders                      // past a delimiter, reading headers
	stateResync                       // discard everything up to the next delimiter
	stateDone                         // closing delimiter or end of stream seen
)

// MultipartReader reads the multipart/mixed body of an alertStream the way real
// devices write it (docs/isapi.md, "Part framing"). Unlike mime/multipart it
//
//   - trusts Content-Length: it reads exactly that many bytes and returns the part
//     at once, then skips CR/LF and expects a delimiter line, so an event is not
//     held back until the device sends its next part;
//   - scans for a delimiter only when a part has no Content-Length, and even then
//     returns an XML part as soon as its closing </EventNotificationAlert> line
//     arrives;
//   - accepts the declared boundary and the literal "--boundary", duplicated
//     delimiter lines, CRLF or LF line ends, and a body that is never closed;
//   - bounds every part (MaxPartSize) and skips, instead of failing on, parts it
//     cannot frame.
//
// It is not safe for concurrent use.
type MultipartReader struct {
	src     io.Reader
	buf     []byte
	r, w    int
	scanned int // bytes of buf[r:w] known to hold no '\n'
	srcErr  error
	zeroes  int // consecutive empty reads, to stop a reader that never progresses

	delims  [][]byte // delimiter lines without line end: "--declared", "--boundary"
	maxPart int
	state   readerState
	midLine bool // resync discarded a partial line; the next '\n' ends it
}

// NewMultipartReader reads parts delimited by boundary (as declared in the
// Content-Type header; "" means the literal "boundary"). maxPartSize <= 0 means
// DefaultMaxPartSize.
func NewMultipartReader(r io.Reader, boundary string, maxPartSize int) *MultipartReader {
	if maxPartSize <= 0 {
		maxPartSize = DefaultMaxPartSize
	}
	m := &MultipartReader{src: r, buf: make([]byte, 4096), maxPart: maxPartSize}
	boundary = strings.Trim(strings.TrimSpace(boundary), `"`)
	for _, b := range []string{boundary, strings.TrimPrefix(boundary, "--"), literalBoundary} {
		if b == "" {
			continue
		}
		d := []byte("--" + b)
		if !containsBytes(m.delims, d) {
			m.delims = append(m.delims, d)
		}
	}
	return m
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// NextPart returns the next part as soon as its bytes have arrived.
//
// Errors: io.EOF at the end of the stream (or after a closing delimiter);
// io.ErrUnexpectedEOF if the stream ends inside a part; a *PartError (matching
// ErrMalformedPart, and ErrPartTooLarge for oversize parts) when a part was
// skipped, in which case the caller may simply call NextPart again; any other
// error comes from the underlying reader.
func (m *MultipartReader) NextPart() (*Part, error) {
	for {
		switch m.state {
		case stateDone:
			return nil, io.EOF
		case stateResync:
			if err := m.skipToDelim(); err != nil {
				return nil, err
			}
		case stateFindDelim:
			if err := m.findDelim(); err != nil {
				return nil, err
			}
		case stateHeaders:
			p, err := m.readPart()
			if err != nil || p != nil {
				return p, err
			}
		}
	}
}

// findDelim skips the CR/LF that ends a part and expects a delimiter line.
// Anything else is reported once and the reader resynchronises.
func (m *MultipartReader) findDelim() error {
	for {
		line, err := m.readLine(maxLineSize)
		if errors.Is(err, errLineTooLong) {
			m.state, m.midLine = stateResync, true
			return &PartError{Err: ErrMalformedPart, Reason: "overlong line where a boundary was expected"}
		}
		if err != nil {
			if err == io.EOF {
				m.state = stateDone
			}
			return err
		}
		if len(trimEOL(line)) == 0 {
			continue
		}
		if isDelim, closing := m.isDelim(line); isDelim {
			m.state = stateHeaders
			if closing {
				m.state = stateDone
			}
			return nil
		}
		m.state = stateResync
		return &PartError{Err: ErrMalformedPart, Reason: fmt.Sprintf("expected a boundary, got %q", truncate(line, 40))}
	}
}

// skipToDelim discards bytes up to and including the next delimiter line.
func (m *MultipartReader) skipToDelim() error {
	for {
		if m.midLine {
			// A delimiter only starts a line: drop the rest of this one.
			if err := m.discardLine(); err != nil {
				if err == io.EOF {
					m.state = stateDone
				}
				return err
			}
			m.midLine = false
		}
		line, err := m.readLine(maxLineSize)
		if errors.Is(err, errLineTooLong) {
			m.midLine = true
			continue
		}
		if err != nil {
			if err == io.EOF {
				m.state = stateDone
			}
			return err
		}
		if isDelim, closing := m.isDelim(line); isDelim {
			m.state = stateHeaders
			if closing {
				m.state = stateDone
			}
			return nil
		}
	}
}

// readPart reads headers and body after a delimiter. It returns (nil, nil) when
// there was nothing to deliver (a duplicated delimiter, an empty part).
func (m *MultipartReader) readPart() (*Part, error) {
	hdr := textproto.MIMEHeader{}
	for n := 0; ; n++ {
		line, err := m.readLine(maxLineSize)
		if errors.Is(err, errLineTooLong) || n > maxHeaders {
			m.state, m.midLine = stateResync, errors.Is(err, errLineTooLong)
			return nil, &PartError{Err: ErrMalformedPart, Reason: "header too long"}
		}
		if err != nil {
			if err == io.EOF {
				m.state = stateDone
				if n > 0 {
					return nil, io.ErrUnexpectedEOF
				}
			}
			return nil, err
		}
		if isDelim, closing := m.isDelim(line); isDelim {
			// Duplicated delimiter line (quirk 2): start over, quietly if nothing
			// was lost.
			if closing {
				m.state = stateDone
				return nil, nil
			}
			if len(hdr) > 0 {
				return nil, &PartError{Err: ErrMalformedPart, Reason: "part without body"}
			}
			continue
		}
		text := trimEOL(line)
		if len(text) == 0 {
			break
		}
		if text[0] == '<' || bytes.HasPrefix(text, utf8BOM) {
			// No headers, or no blank line after them: no header name starts
			// with '<', so the body starts right here.
			m.unread(len(line))
			break
		}
		k, v, ok := bytes.Cut(text, []byte(":"))
		if !ok {
			m.state = stateResync
			return nil, &PartError{Err: ErrMalformedPart, Reason: fmt.Sprintf("bad header line %q", truncate(line, 40))}
		}
		key := textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(k)))
		hdr.Add(key, string(bytes.TrimSpace(v)))
	}

	var body []byte
	var err error
	if cl, ok := contentLength(hdr); ok {
		body, err = m.readSized(cl)
	} else {
		body, err = m.readScanned()
	}
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return nil, err
	}
	return &Part{Header: hdr, Body: body}, nil
}

func contentLength(h textproto.MIMEHeader) (int, bool) {
	v := h.Get("Content-Length")
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false // unusable: fall back to scanning for the delimiter
	}
	if n > 1<<40 {
		n = 1 << 40
	}
	return int(n), true
}

// readSized reads exactly n body bytes and returns at once. If the bytes contain
// a delimiter line the device overstated Content-Length: the body ends there and
// the rest is read as the next part.
func (m *MultipartReader) readSized(n int) ([]byte, error) {
	if n > m.maxPart {
		// Not trusting a huge length: scanning for the delimiter costs nothing
		// and survives a lying device.
		m.state = stateResync
		return nil, &PartError{Err: ErrPartTooLarge, Reason: fmt.Sprintf("Content-Length %d exceeds %d", n, m.maxPart)}
	}
	for m.w-m.r < n {
		if err := m.fill(n); err != nil {
			m.state = stateDone
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	body := m.buf[m.r : m.r+n]
	consumed := n
	if i := m.indexDelimLine(body); i >= 0 {
		body, consumed = trimOneEOL(body[:i]), i
	}
	out := bytes.Clone(body)
	m.r += consumed
	m.scanned = 0
	m.state = stateFindDelim
	return out, nil
}

// readScanned reads a body without Content-Length: up to the next delimiter line,
// or up to the line closing </EventNotificationAlert>, whichever comes first.
func (m *MultipartReader) readScanned() ([]byte, error) {
	off := 0  // bytes of the body already seen as complete lines
	seen := 0 // bytes after off known to hold no '\n'
	for {
		i := bytes.IndexByte(m.buf[m.r+off+seen:m.w], '\n')
		if i >= 0 {
			i += seen
			seen = 0
		} else {
			seen = m.w - m.r - off
			if m.w-m.r > m.maxPart {
				m.r += off
				m.scanned = 0
				m.state = stateResync
				return nil, &PartError{Err: ErrPartTooLarge, Reason: fmt.Sprintf("part without Content-Length exceeds %d", m.maxPart)}
			}
			if err := m.fill(m.w - m.r + 1); err != nil {
				if err == io.EOF && off > 0 {
					// Never-closed body cut after complete lines: deliver them.
					body := bytes.Clone(trimOneEOL(m.buf[m.r : m.r+off]))
					m.r += off
					m.state = stateDone
					return body, nil
				}
				m.state = stateDone
				if err == io.EOF {
					return nil, io.ErrUnexpectedEOF
				}
				return nil, err
			}
			continue
		}
		line := m.buf[m.r+off : m.r+off+i+1]
		if isDelim, _ := m.isDelim(line); isDelim {
			body := bytes.Clone(trimOneEOL(m.buf[m.r : m.r+off]))
			m.r += off
			m.scanned = 0
			m.state = stateFindDelim
			return body, nil
		}
		off += len(line)
		if off > m.maxPart {
			m.r += off
			m.scanned = 0
			m.state = stateResync
			return nil, &PartError{Err: ErrPartTooLarge, Reason: fmt.Sprintf("part without Content-Length exceeds %d", m.maxPart)}
		}
		if t := bytes.TrimSpace(line); bytes.HasSuffix(t, []byte("EventNotificationAlert>")) && bytes.Contains(t, []byte("</")) {
			body := bytes.Clone(m.buf[m.r : m.r+off])
			m.r += off
			m.scanned = 0
			m.state = stateFindDelim
			return body, nil
		}
	}
}

// isDelim reports whether line (with or without line end) is a delimiter line,
// and whether it is the closing one.
func (m *MultipartReader) isDelim(line []byte) (isDelim, closing bool) {
	t := bytes.TrimRight(line, " \t\r\n")
	if len(t) < 3 || t[0] != '-' || t[1] != '-' {
		return false, false
	}
	for _, d := range m.delims {
		if bytes.Equal(t, d) {
			return true, false
		}
		if len(t) == len(d)+2 && bytes.HasPrefix(t, d) && bytes.HasSuffix(t, []byte("--")) {
			return true, true
		}
	}
	return false, false
}

// indexDelimLine returns the offset of the first delimiter line inside b that
// starts after a line end, or -1.
func (m *MultipartReader) indexDelimLine(b []byte) int {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("\n--"))
		if i < 0 {
			return -1
		}
		start := off + i + 1
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			return -1 // a delimiter must be a whole line
		}
		if ok, _ := m.isDelim(b[start : start+end+1]); ok {
			return start
		}
		off = start
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line including its '\n' (or the last bytes of the
// stream without one). The slice aliases the buffer until the next read.
func (m *MultipartReader) readLine(limit int) ([]byte, error) {
	for {
		if i := bytes.IndexByte(m.buf[m.r+m.scanned:m.w], '\n'); i >= 0 {
			if m.scanned+i+1 > limit {
				m.scanned = 0
				return nil, errLineTooLong
			}
			line := m.buf[m.r : m.r+m.scanned+i+1]
			m.r += len(line)
			m.scanned = 0
			return line, nil
		}
		m.scanned = m.w - m.r
		if m.scanned >= limit {
			m.scanned = 0
			return nil, errLineTooLong
		}
		if err := m.fill(m.scanned + 1); err != nil {
			if err == io.EOF && m.w > m.r {
				line := m.buf[m.r:m.w]
				m.r, m.scanned = m.w, 0
				return line, nil
			}
			return nil, err
		}
	}
}

// discardLine drops bytes through the next '\n' without buffering them.
func (m *MultipartReader) discardLine() error {
	for {
		if i := bytes.IndexByte(m.buf[m.r:m.w], '\n'); i >= 0 {
			m.r += i + 1
			m.scanned = 0
			return nil
		}
		m.r, m.scanned = m.w, 0
		if err := m.fill(1); err != nil {
			return err
		}
	}
}

// unread gives back the last n bytes returned by readLine.
func (m *MultipartReader) unread(n int) { m.r -= n; m.scanned = 0 }

// fill reads once from the source, making room for at least want unread bytes.
// It returns an error only when no byte was added.
func (m *MultipartReader) fill(want int) error {
	if m.srcErr != nil {
		return m.srcErr
	}
	if m.r > 0 && (m.w == len(m.buf) || len(m.buf)-m.r < want) {
		copy(m.buf, m.buf[m.r:m.w])
		m.w -= m.r
		m.r = 0
	}
	if want > len(m.buf) || m.w == len(m.buf) {
		size := max(2*len(m.buf), want)
		limit := m.maxPart + 2*maxLineSize
		if size > limit {
			size = limit
		}
		if size <= len(m.buf) {
			return errLineTooLong // cannot happen with the callers' bounds; be safe
		}
		nb := make([]byte, size)
		copy(nb, m.buf[m.r:m.w])
		m.w -= m.r
		m.r = 0
		m.buf = nb
	}
	n, err := m.src.Read(m.buf[m.w:])
	m.w += n
	if err != nil {
		m.srcErr = err
	}
	if n > 0 {
		m.zeroes = 0
		return nil
	}
	if err != nil {
		return err
	}
	if m.zeroes++; m.zeroes > 100 {
		m.srcErr = io.ErrNoProgress
		return m.srcErr
	}
	return nil
}

func trimEOL(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }

// trimOneEOL drops the single line end that belongs to the delimiter, not the body.
func trimOneEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func truncate(b []byte, n int) string {
	b = trimEOL(b)
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
