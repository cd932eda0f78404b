package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// rawConn is a minimal HTTP/1.1 keep-alive client for single-event requests: one write per
// request and a buffered read of the answer. The load generator shares the machine with the
// server and PostgreSQL, so every microsecond it spends is taken from them; net/http's client
// costs several times more per request.
type rawConn struct {
	c    net.Conn
	r    *bufio.Reader
	buf  bytes.Buffer
	head string // request line and headers up to Content-Length
}

func dialRaw(base, path, key string) (*rawConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	head := "POST " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + key +
		"\r\nContent-Type: application/json\r\nContent-Length: "
	return &rawConn{c: c, r: bufio.NewReaderSize(c, 16<<10), head: head}, nil
}

var errClosed = errors.New("server closed the connection")

// post sends body and returns the status code; the connection stays usable unless err != nil.
func (rc *rawConn) post(body []byte) (int, error) {
	rc.buf.Reset()
	rc.buf.WriteString(rc.head)
	rc.buf.WriteString(strconv.Itoa(len(body)))
	rc.buf.WriteString("\r\n\r\n")
	rc.buf.Write(body)
	_ = rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := rc.c.Write(rc.buf.Bytes()); err != nil {
		return 0, err
	}
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 201 Created\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, closing := -1, false, false
	for {
		h, err := rc.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 { // blank line: end of headers
			break
		}
		name, value, _ := bytes.Cut(bytes.TrimRight(h, "\r\n"), []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = rc.skipChunks()
	case length >= 0:
		_, err = rc.r.Discard(length)
	default:
		return 0, errors.New("answer without a length")
	}
	if err == nil && closing {
		err = errClosed
	}
	return status, err
}

func (rc *rawConn) skipChunks() error {
	for {
		line, err := rc.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			_, err = rc.r.ReadSlice('\n') // no trailers from this server
			return err
		}
		if _, err := rc.r.Discard(int(size) + 2); err != nil {
			return err
		}
	}
}

func (rc *rawConn) close() { rc.c.Close() }

// rawPool hands out keep-alive connections, dialling when none is idle.
type rawPool struct {
	base, path, key string
	mu              sync.Mutex
	idle            []*rawConn
}

func (p *rawPool) post(body []byte) (int, error) {
	p.mu.Lock()
	var rc *rawConn
	if n := len(p.idle); n > 0 {
		rc, p.idle = p.idle[n-1], p.idle[:n-1]
	}
	p.mu.Unlock()
	if rc == nil {
		var err error
		if rc, err = dialRaw(p.base, p.path, p.key); err != nil {
			return 0, err
		}
	}
	status, err := rc.post(body)
	if err != nil {
		rc.close()
		if errors.Is(err, errClosed) {
			return status, nil
		}
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("server closed the connection: %w", err)
		}
		return 0, err
	}
	p.mu.Lock()
	p.idle = append(p.idle, rc)
	p.mu.Unlock()
	return status, nil
}

func (p *rawPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rc := range p.idle {
		rc.close()
	}
	p.idle = nil
}
