package lab

import (
	"bytes"
	"io"
	"net/url"
)

func newBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func parseFormValue(body, key string) string {
	v, err := url.ParseQuery(body)
	if err != nil {
		return ""
	}
	return v.Get(key)
}
