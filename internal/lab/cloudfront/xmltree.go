package cloudfront

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// node is a namespace-free XML element. CloudFront configs are large and
// grow new members every year; keeping them as a tree lets the lab store and
// return every member a client sends, including ones it does not know.
type node struct {
	Name string
	Text string
	Kids []*node
}

// Limits that keep a hostile body from costing more than a real one could.
const (
	maxXMLDepth    = 48
	maxXMLElements = 200000
)

func malformed(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "MalformedInput", format, args...)
}

// parseXML reads one document into a tree. Any syntax problem, a second root
// or text mixed with child elements is MalformedInput, never a panic.
func parseXML(body []byte) (*node, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, awsapi.Errorf(http.StatusBadRequest, "MissingBody", "This operation requires a body. Ensure that the body is present and the Content-Type header is set.")
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var root *node
	var stack []*node
	var text []*strings.Builder
	count := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, malformed("Invalid XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxXMLElements {
				return nil, malformed("Invalid XML: too many elements")
			}
			if len(stack) >= maxXMLDepth {
				return nil, malformed("Invalid XML: nesting too deep")
			}
			n := &node{Name: t.Name.Local}
			if len(stack) == 0 {
				if root != nil {
					return nil, malformed("Invalid XML: more than one root element")
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				if strings.TrimSpace(text[len(text)-1].String()) != "" {
					return nil, malformed("Invalid XML: unexpected text in element %s", parent.Name)
				}
				parent.Kids = append(parent.Kids, n)
			}
			stack = append(stack, n)
			text = append(text, &strings.Builder{})
		case xml.EndElement:
			n := stack[len(stack)-1]
			s := text[len(text)-1].String()
			if len(n.Kids) == 0 {
				n.Text = s
			} else if strings.TrimSpace(s) != "" {
				return nil, malformed("Invalid XML: unexpected text in element %s", n.Name)
			}
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return nil, malformed("Invalid XML: text outside the root element")
				}
				continue
			}
			text[len(text)-1].Write(t)
		case xml.Directive:
			// A DOCTYPE could declare entities; AWS refuses them and so do we.
			return nil, malformed("Invalid XML: directives are not allowed")
		}
	}
	if root == nil {
		return nil, malformed("Invalid XML: no root element")
	}
	return root, nil
}

// el builds an element with children; nil children are skipped so optional
// members can be written inline.
func el(name string, kids ...*node) *node {
	n := &node{Name: name}
	for _, k := range kids {
		if k != nil {
			n.Kids = append(n.Kids, k)
		}
	}
	return n
}

// leaf builds a text element.
func leaf(name, text string) *node { return &node{Name: name, Text: text} }

func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// textOf returns the text of the first child called name.
func (n *node) textOf(name string) (string, bool) {
	c := n.child(name)
	if c == nil {
		return "", false
	}
	return c.Text, true
}

func (n *node) clone() *node {
	if n == nil {
		return nil
	}
	c := &node{Name: n.Name, Text: n.Text}
	for _, k := range n.Kids {
		c.Kids = append(c.Kids, k.clone())
	}
	return c
}

// set replaces the first child named like v, or inserts v before the first
// child that comes after it in order (the model's member order), so a
// response keeps the shape clients expect.
func (n *node) set(v *node, order []string) {
	for i, k := range n.Kids {
		if k.Name == v.Name {
			n.Kids[i] = v
			return
		}
	}
	rank := func(name string) int {
		for i, o := range order {
			if o == name {
				return i
			}
		}
		return len(order)
	}
	r := rank(v.Name)
	for i, k := range n.Kids {
		if rank(k.Name) > r {
			n.Kids = append(n.Kids[:i], append([]*node{v}, n.Kids[i:]...)...)
			return
		}
	}
	n.Kids = append(n.Kids, v)
}

func (n *node) remove(name string) {
	out := n.Kids[:0]
	for _, k := range n.Kids {
		if k.Name != name {
			out = append(out, k)
		}
	}
	n.Kids = out
}

// marshal writes the tree as a document whose root carries namespace ns.
func (n *node) marshal(ns string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	n.write(&b, ns)
	return b.Bytes()
}

func (n *node) write(b *bytes.Buffer, ns string) {
	b.WriteByte('<')
	b.WriteString(n.Name)
	if ns != "" {
		b.WriteString(` xmlns="`)
		b.WriteString(ns)
		b.WriteByte('"')
	}
	b.WriteByte('>')
	if len(n.Kids) == 0 {
		_ = xml.EscapeText(b, []byte(n.Text))
	}
	for _, k := range n.Kids {
		k.write(b, "")
	}
	b.WriteString("</")
	b.WriteString(n.Name)
	b.WriteByte('>')
}

// String renders the element without a header or namespace; snapshots and
// the idempotency check of CreateDistribution compare configs this way.
func (n *node) String() string {
	var b bytes.Buffer
	n.write(&b, "")
	return b.String()
}
