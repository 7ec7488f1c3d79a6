// Records the traffic of two real memberlist nodes for Tests/GossipTests/MemberlistCapture.swift: node-b joins
// node-a on 127.0.0.1, sends a best-effort and a reliable user message, then leaves. Every UDP packet and every
// TCP stream (both directions) is printed as "udp|tcp <node> <hex>". Pass "encrypt" to use the key
// "0123456789abcdef". Built offline from Debian packages (memberlist 0.2.2, as in Debian's serf):
//
//   apt-get install golang-go golang-github-hashicorp-memberlist-dev
//   mkdir -p /tmp/g/src/capture && cp memberlist-capture.go /tmp/g/src/capture/main.go && cd /tmp/g/src/capture
//   GO111MODULE=off GOPATH=/tmp/g:/usr/share/gocode GOPROXY=off GOFLAGS= go run . [encrypt]
//
// Not part of the Swift build.

package main

import (
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

var mu sync.Mutex
var records []string

func record(kind, from string, b []byte) {
	mu.Lock()
	defer mu.Unlock()
	records = append(records, fmt.Sprintf("%s %s %x", kind, from, b))
}

type recConn struct {
	net.Conn
	from string
	buf  []byte
}

func (c *recConn) Write(b []byte) (int, error) {
	c.buf = append(c.buf, b...)
	return c.Conn.Write(b)
}
func (c *recConn) Close() error {
	record("tcp", c.from, c.buf)
	return c.Conn.Close()
}

type recTransport struct {
	*memberlist.NetTransport
	name    string
	streams chan net.Conn
}

func (t *recTransport) StreamCh() <-chan net.Conn { return t.streams }

func (t *recTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	record("udp", t.name, b)
	return t.NetTransport.WriteTo(b, addr)
}
func (t *recTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	record("udp", t.name, b)
	return t.NetTransport.WriteToAddress(b, a)
}
func (t *recTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := t.NetTransport.DialTimeout(addr, timeout)
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: c, from: t.name}, nil
}
func (t *recTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	c, err := t.NetTransport.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: c, from: t.name}, nil
}

type delegate struct{ name string }

func (d *delegate) NodeMeta(limit int) []byte                  { return []byte{0xff, 0x80} }
func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return []byte("state-of-" + d.name) }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

func node(name string, port int, key []byte) *memberlist.Memberlist {
	c := memberlist.DefaultLocalConfig()
	c.Name = name
	c.BindAddr = "127.0.0.1"
	c.BindPort = port
	c.AdvertisePort = port
	c.SecretKey = key
	c.Delegate = &delegate{name}
	c.DelegateProtocolMin, c.DelegateProtocolMax, c.DelegateProtocolVersion = 2, 5, 5
	c.LogOutput = os.Stderr
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{"127.0.0.1"}, BindPort: port, Logger: nil})
	if err != nil {
		panic(err)
	}
	rt := &recTransport{nt, name, make(chan net.Conn)}
	go func() {
		for conn := range nt.StreamCh() {
			rt.streams <- &recConn{Conn: conn, from: name + "-reply"}
		}
	}()
	c.Transport = rt
	m, err := memberlist.Create(c)
	if err != nil {
		panic(err)
	}
	return m
}

func main() {
	var key []byte
	if len(os.Args) > 1 && os.Args[1] == "encrypt" {
		key = []byte("0123456789abcdef")
	}
	a := node("node-a", 17946, key)
	b := node("node-b", 17947, key)
	if _, err := b.Join([]string{"127.0.0.1:17946"}); err != nil {
		panic(err)
	}
	time.Sleep(2500 * time.Millisecond)
	var target *memberlist.Node
	for _, n := range b.Members() {
		if n.Name == "node-a" {
			target = n
		}
	}
	b.SendBestEffort(target, []byte("hello-udp"))
	b.SendReliable(target, []byte("hello-tcp"))
	time.Sleep(500 * time.Millisecond)
	b.Leave(time.Second)
	time.Sleep(500 * time.Millisecond)
	b.Shutdown()
	a.Shutdown()
	mu.Lock()
	for _, r := range records {
		fmt.Println(r)
	}
	mu.Unlock()
}
