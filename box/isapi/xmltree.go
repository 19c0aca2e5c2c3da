package isapi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// node is an XML element reduced to what ISAPI needs: local name, namespace,
// text and children. Devices disagree on namespaces, escaping and sometimes on
// case, so fields are looked up by local name, case-insensitively, instead of
// through encoding/xml struct tags.
type node struct {
	Name     string // local name as sent
	Space    string // namespace URL, informational only
	Text     string // trimmed character data directly inside the element
	Children []*node
}

const (
	maxXMLDepth = 32
	maxXMLNodes = 20000
)

// parseXML reads the first root element of data. It is deliberately lenient:
// non-strict mode keeps a bare '&' as text and closes mismatched tags, and any
// declared charset is read as-is (ISAPI content is ASCII in practice).
func parseXML(data []byte) (*node, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.AutoClose = nil
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }

	var stack []*node
	var root *node
	var text [][]byte
	count := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if root != nil && len(stack) == 0 {
				return root, nil
			}
			if root != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
				return nil, fmt.Errorf("isapi: xml: unclosed <%s>: %w", stack[len(stack)-1].Name, io.ErrUnexpectedEOF)
			}
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("isapi: xml: no element: %w", io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("isapi: xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return root, nil // trailing garbage after the root element
			}
			if count++; count > maxXMLNodes || len(stack) >= maxXMLDepth {
				return nil, errors.New("isapi: xml: document too deep or too large")
			}
			n := &node{Name: t.Name.Local, Space: t.Name.Space}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.CharData:
			if len(stack) > 0 && len(text[len(text)-1]) < 1<<16 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			n := stack[len(stack)-1]
			n.Text = string(bytes.TrimSpace(text[len(text)-1]))
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
			if len(stack) == 0 {
				return root, nil
			}
		}
	}
}

// child returns the first direct child named name (case-insensitive), or nil.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// children returns the direct children named name.
func (n *node) children(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.Children {
		if strings.EqualFold(c.Name, name) {
			out = append(out, c)
		}
	}
	return out
}

// path follows child names; nil if any is missing.
func (n *node) path(names ...string) *node {
	for _, name := range names {
		n = n.child(name)
	}
	return n
}

// text returns the text of the child at path, "" if missing.
func (n *node) text(names ...string) string {
	if c := n.path(names...); c != nil {
		return c.Text
	}
	return ""
}

// int returns the integer at path and whether it was present and valid.
func (n *node) int(names ...string) (int, bool) {
	v, err := strconv.Atoi(n.text(names...))
	return v, err == nil
}

// float returns the number at path and whether it was present and valid.
func (n *node) float(names ...string) (float64, bool) {
	v, err := strconv.ParseFloat(n.text(names...), 64)
	return v, err == nil
}

// leaves collects every leaf element's text by local name (first wins), so
// callers can reach fields this package does not name.
func (n *node) leaves() map[string]string {
	out := map[string]string{}
	var walk func(*node)
	walk = func(x *node) {
		for _, c := range x.Children {
			if len(c.Children) == 0 {
				if _, ok := out[c.Name]; !ok {
					out[c.Name] = c.Text
				}
				continue
			}
			walk(c)
		}
	}
	walk(n)
	return out
}
